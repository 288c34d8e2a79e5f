import * as tf from '@tensorflow/tfjs';
import type { MnistData } from '../../src/data/mnist';
import { initWeightNorm } from '../../src/models/layers/weight-norm-dense';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, defaultKPlusOneFeatureLayer, resolveKPlusOneMlpConfig } from '../../src/models/kplusone-mlp';
import { KPlusOneTrainer } from '../../src/training/kplusone-trainer';
import { noiseSteps, runPeerStepBench, type PeerBenchOptions, type PeerBenchResult } from './peer-step-bench';

/**
 * The K+1 semi-supervised step of Salimans et al. 2016 (ganql's KPlusOneTrainer, the paper's MNIST
 * networks, batch 100 labelled + 100 unlabelled + 100 generated, feature matching, averaging of D)
 * timed in tfjs and in PyTorch (bench/pytorch-kplusone-step.py), and the first steps' losses of both
 * from the same initial weights. The check runs without D's Gaussian noise (sigma 0 in both): two
 * libraries cannot draw the same noise; the timed steps keep it.
 */

/** The options of src/training/training-session.ts for K+1 runs, with the paper's learning rate. */
const TRAINER = { learningRate: 0.003, beta1: 0.5, unsupervisedWeight: 0.5, averageRate: 0.005 };
const NOISE_SEED = 17;

export function runKPlusOneBench(mnist: MnistData, options: PeerBenchOptions): PeerBenchResult {
  const batchSize = 100;
  const config = resolveKPlusOneMlpConfig();
  const { latentSize, imageSize: size } = config;
  const imageSize = size * size;
  if (mnist.count < 2 * batchSize) throw new Error(`K+1 bench: expected at least ${2 * batchSize} MNIST images, got ${mnist.count}`);
  const labelledImages = mnist.images.subarray(0, batchSize * imageSize);
  const labels = new Int32Array(mnist.labels.subarray(0, batchSize));
  const unlabelledImages = mnist.images.subarray(batchSize * imageSize, 2 * batchSize * imageSize);
  const shape: [number, number, number, number] = [batchSize, size, size, 1];
  const labelled = { images: tf.tensor4d(labelledImages, shape), labels: tf.tensor1d(labels, 'int32') };
  const unlabelled = tf.tensor4d(unlabelledImages, shape);

  const build = (noise: boolean) => {
    const c = noise ? config : { ...config, inputNoise: 0, hiddenNoise: 0 };
    const generator = buildKPlusOneGenerator(c);
    const discriminator = buildKPlusOneDiscriminator(c);
    // The data-dependent init of the weight-normalised layers, as a training job does it.
    initWeightNorm(discriminator, unlabelled);
    const trainer = new KPlusOneTrainer(
      generator,
      discriminator,
      { images: mnist.images, count: mnist.count, shape: [size, size, 1] },
      { images: labelledImages, labels: new Uint8Array(labels), count: batchSize },
      { ...TRAINER, batchSize, k: 1, seed: 1, featureLayer: defaultKPlusOneFeatureLayer(c) },
    );
    return { generator, discriminator, trainer };
  };
  const timed = build(true);
  const checked = build(false);
  const checkNoise = noiseSteps(batchSize, latentSize, NOISE_SEED, options.checkSteps);
  const noise = noiseSteps(batchSize, latentSize, NOISE_SEED + 1, options.warmup + options.steps).steps;
  try {
    return runPeerStepBench(
      {
        name: 'K+1',
        script: 'pytorch-kplusone-step.py',
        timed: { generator: timed.generator, discriminator: timed.discriminator },
        checked: { generator: checked.generator, discriminator: checked.discriminator },
        config: { architecture: config, trainer: TRAINER, batchSize },
        files: { 'labelled.f32': labelledImages, 'labels.i32': labels, 'unlabelled.f32': unlabelledImages, 'noise.f32': checkNoise.flat },
        checkStep: (i) => {
          const { discriminator, generator } = checked.trainer.trainStep([labelled], [unlabelled], checkNoise.steps[i], i);
          return { discriminator, generator };
        },
        timedStep: (i) => timed.trainer.trainStep([labelled], [unlabelled], noise[i], i),
      },
      options,
    );
  } finally {
    for (const m of [timed, checked]) {
      m.trainer.dispose();
      m.generator.dispose();
      m.discriminator.dispose();
    }
    tf.dispose([labelled.images, labelled.labels, unlabelled]);
  }
}
