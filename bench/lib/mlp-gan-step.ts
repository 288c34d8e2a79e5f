import * as tf from '@tensorflow/tfjs';
import type { MnistData } from '../../src/data/mnist';
import { buildMlpDiscriminator, buildMlpGenerator, resolveMlpGanConfig } from '../../src/models/mlp-gan';
import { DcganTrainer } from '../../src/training/dcgan-trainer';
import { noiseSteps, runPeerStepBench, type PeerBenchOptions, type PeerBenchResult } from './peer-step-bench';

/**
 * The MLP GAN step (Goodfellow et al. 2014's MNIST networks: G 100-1200-1200-784, D maxout 240x5 twice
 * with dropout 0.5; batch 100 as in their code; DcganTrainer's k = 1 step with Adam 0.0002 / 0.5) timed
 * in tfjs and in PyTorch (bench/pytorch-mlp-gan-step.py), and the first steps' losses of both from the
 * same initial weights, checked without dropout (two libraries cannot draw the same masks).
 */
const BATCH = 100;
const TRAINER = { learningRate: 0.0002, beta1: 0.5 };
const NOISE_SEED = 23;

export function runMlpGanBench(mnist: MnistData, options: PeerBenchOptions): PeerBenchResult {
  const config = resolveMlpGanConfig();
  const { latentSize, imageSize: size } = config;
  if (mnist.count < BATCH) throw new Error(`MLP GAN bench: expected at least ${BATCH} MNIST images, got ${mnist.count}`);
  const realImages = mnist.images.subarray(0, BATCH * size * size);
  const real = tf.tensor4d(realImages, [BATCH, size, size, 1]);
  const build = (dropout: number) => {
    const c = { ...config, dropout };
    const generator = buildMlpGenerator(c);
    const discriminator = buildMlpDiscriminator(c);
    const trainer = new DcganTrainer(
      generator,
      discriminator,
      { images: mnist.images, count: mnist.count, shape: [size, size, 1] },
      { ...TRAINER, batchSize: BATCH, seed: 1 },
    );
    return { generator, discriminator, trainer };
  };
  const timed = build(config.dropout);
  const checked = build(0);
  const checkNoise = noiseSteps(BATCH, latentSize, NOISE_SEED, options.checkSteps);
  const noise = noiseSteps(BATCH, latentSize, NOISE_SEED + 1, options.warmup + options.steps).steps;
  try {
    return runPeerStepBench(
      {
        name: 'MLP GAN',
        script: 'pytorch-mlp-gan-step.py',
        timed: { generator: timed.generator, discriminator: timed.discriminator },
        checked: { generator: checked.generator, discriminator: checked.discriminator },
        config: { architecture: config, trainer: TRAINER, batchSize: BATCH },
        files: { 'real.f32': realImages, 'noise.f32': checkNoise.flat },
        checkStep: (i) => {
          const { discriminator, generator } = checked.trainer.trainStep([real], checkNoise.steps[i], i);
          return { discriminator, generator };
        },
        timedStep: (i) => timed.trainer.trainStep([real], noise[i], i),
      },
      options,
    );
  } finally {
    for (const m of [timed, checked]) {
      m.trainer.dispose();
      m.generator.dispose();
      m.discriminator.dispose();
    }
    real.dispose();
  }
}
