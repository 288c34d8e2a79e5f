import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MnistData } from '../../src/data/mnist';
import { initWeightNorm } from '../../src/models/layers/weight-norm-dense';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, defaultKPlusOneFeatureLayer, resolveKPlusOneMlpConfig } from '../../src/models/kplusone-mlp';
import { seededNoise, type Losses } from '../../src/training/dcgan-trainer';
import { KPlusOneTrainer } from '../../src/training/kplusone-trainer';
import { countParameters, exportWeights, timeSteps, timingOf, writeFloats, type StepTiming } from './step-timing';
import { runStepPeers } from './pytorch-peer';

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

export interface PeerRun {
  label: string;
  timing: StepTiming;
}

export interface KPlusOneResult {
  tfjs: { before: StepTiming; after: StepTiming; all: { wall: number[]; cpu: number[] } };
  torch: PeerRun[];
  check: { tfjs: Losses; torch: Losses }[];
  counts: { tfjs: { generator: number; discriminator: number }; torch: { generator: number; discriminator: number } };
}

export function runKPlusOneBench(mnist: MnistData, options: { steps: number; torchSteps: number; warmup: number; checkSteps: number }): KPlusOneResult {
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
  const counts = { generator: countParameters(timed.generator), discriminator: countParameters(timed.discriminator) };
  const perBatch = batchSize * latentSize;
  const noiseSteps = (seed: number, n: number): { flat: Float32Array; steps: Float32Array[][] } => {
    const flat = seededNoise(n * 2 * batchSize, latentSize, seed);
    return {
      flat,
      steps: Array.from({ length: n }, (_, i) => [
        flat.subarray(2 * i * perBatch, (2 * i + 1) * perBatch),
        flat.subarray((2 * i + 1) * perBatch, (2 * i + 2) * perBatch),
      ]),
    };
  };
  const step = (t: KPlusOneTrainer, z: Float32Array[], stream: number) => t.trainStep([labelled], [unlabelled], z, stream);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-kplusone-step-'));
  try {
    const weights = exportWeights([timed.generator, timed.discriminator], path.join(tmp, 'weights.bin'));
    const checkWeights = exportWeights([checked.generator, checked.discriminator], path.join(tmp, 'check-weights.bin'));
    if (JSON.stringify(weights) !== JSON.stringify(checkWeights))
      throw new Error("K+1 bench: expected the check models to have the timed models' weight layout");
    writeFloats(path.join(tmp, 'labelled.f32'), labelledImages);
    writeFloats(path.join(tmp, 'labels.i32'), labels);
    writeFloats(path.join(tmp, 'unlabelled.f32'), unlabelledImages);
    const checkNoise = noiseSteps(NOISE_SEED, options.checkSteps);
    writeFloats(path.join(tmp, 'noise.f32'), checkNoise.flat);
    writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ architecture: config, trainer: TRAINER, batchSize, tfjsParameterCounts: counts, weights }));

    const tfjsCheck = checkNoise.steps.map((z, i) => step(checked.trainer, z, i));
    const noise = noiseSteps(NOISE_SEED + 1, options.warmup + options.steps).steps;
    let next = 0;
    const run = (n: number) => timeSteps(n, () => step(timed.trainer, noise[next], next++));
    run(options.warmup);
    const before = run(Math.floor(options.steps / 2));
    const peers = runStepPeers(path.join(__dirname, '..', 'pytorch-kplusone-step.py'), tmp, options);
    const torch: PeerRun[] = peers.map((p) => ({ label: p.label, timing: p.timing }));
    const torchCheck = peers[0].check;
    const torchCounts = peers[0].parameterCounts;
    const after = run(Math.ceil(options.steps / 2));
    const all = { wall: [...before.wall, ...after.wall], cpu: [...before.cpu, ...after.cpu] };
    const timing = (t: { wall: number[]; cpu: number[] }) => timingOf(t.wall, t.cpu);
    return {
      tfjs: { before: timing(before), after: timing(after), all },
      torch,
      check: tfjsCheck.map((t, i) => ({ tfjs: { discriminator: t.discriminator, generator: t.generator }, torch: torchCheck[i] })),
      counts: { tfjs: counts, torch: torchCounts },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    for (const m of [timed, checked]) {
      m.trainer.dispose();
      m.generator.dispose();
      m.discriminator.dispose();
    }
    tf.dispose([labelled.images, labelled.labels, unlabelled]);
  }
}
