import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MnistData } from '../../src/data/mnist';
import { buildMlpDiscriminator, buildMlpGenerator, resolveMlpGanConfig } from '../../src/models/mlp-gan';
import { DcganTrainer, seededNoise, type Losses } from '../../src/training/dcgan-trainer';
import { runStepPeers } from './pytorch-peer';
import { countParameters, exportWeights, timeSteps, timingOf, writeFloats, type StepTiming } from './step-timing';
import type { KPlusOneResult } from './kplusone-step';

/**
 * The MLP GAN step (Goodfellow et al. 2014's MNIST networks: G 100-1200-1200-784, D maxout 240x5 twice
 * with dropout 0.5; batch 100 as in their code; DcganTrainer's k = 1 step with Adam 0.0002 / 0.5) timed
 * in tfjs and in PyTorch (bench/pytorch-mlp-gan-step.py), and the first steps' losses of both from the
 * same initial weights, checked without dropout (two libraries cannot draw the same masks).
 */
const BATCH = 100;
const TRAINER = { learningRate: 0.0002, beta1: 0.5 };
const NOISE_SEED = 23;

export function runMlpGanBench(mnist: MnistData, options: { steps: number; torchSteps: number; warmup: number; checkSteps: number }): KPlusOneResult {
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
  const counts = { generator: countParameters(timed.generator), discriminator: countParameters(timed.discriminator) };
  const perBatch = BATCH * latentSize;
  const noiseSteps = (seed: number, n: number) => {
    const flat = seededNoise(n * 2 * BATCH, latentSize, seed);
    return {
      flat,
      steps: Array.from({ length: n }, (_, i) => [
        flat.subarray(2 * i * perBatch, (2 * i + 1) * perBatch),
        flat.subarray((2 * i + 1) * perBatch, (2 * i + 2) * perBatch),
      ]),
    };
  };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-mlp-gan-step-'));
  try {
    const weights = exportWeights([timed.generator, timed.discriminator], path.join(tmp, 'weights.bin'));
    const checkWeights = exportWeights([checked.generator, checked.discriminator], path.join(tmp, 'check-weights.bin'));
    if (JSON.stringify(weights) !== JSON.stringify(checkWeights))
      throw new Error("MLP GAN bench: expected the check models to have the timed models' weight layout");
    writeFloats(path.join(tmp, 'real.f32'), realImages);
    const checkNoise = noiseSteps(NOISE_SEED, options.checkSteps);
    writeFloats(path.join(tmp, 'noise.f32'), checkNoise.flat);
    writeFileSync(
      path.join(tmp, 'config.json'),
      JSON.stringify({ architecture: config, trainer: TRAINER, batchSize: BATCH, tfjsParameterCounts: counts, weights }),
    );

    const tfjsCheck: Losses[] = checkNoise.steps.map((z, i) => checked.trainer.trainStep([real], z, i));
    const noise = noiseSteps(NOISE_SEED + 1, options.warmup + options.steps).steps;
    let next = 0;
    const run = (n: number) => timeSteps(n, () => timed.trainer.trainStep([real], noise[next], next++));
    run(options.warmup);
    const before = run(Math.floor(options.steps / 2));
    const peers = runStepPeers(path.join(__dirname, '..', 'pytorch-mlp-gan-step.py'), tmp, options);
    const after = run(Math.ceil(options.steps / 2));
    const all = { wall: [...before.wall, ...after.wall], cpu: [...before.cpu, ...after.cpu] };
    const timing = (t: { wall: number[]; cpu: number[] }): StepTiming => timingOf(t.wall, t.cpu);
    return {
      tfjs: { before: timing(before), after: timing(after), all },
      torch: peers.map((p) => ({ label: p.label, timing: p.timing })),
      check: tfjsCheck.map((t, i) => ({ tfjs: { discriminator: t.discriminator, generator: t.generator }, torch: peers[0].check[i] })),
      counts: { tfjs: counts, torch: peers[0].parameterCounts },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    for (const m of [timed, checked]) {
      m.trainer.dispose();
      m.generator.dispose();
      m.discriminator.dispose();
    }
    real.dispose();
  }
}
