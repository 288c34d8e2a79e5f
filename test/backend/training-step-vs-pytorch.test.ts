import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { buildDiscriminator, buildGenerator } from '../../src/models/dcgan';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, defaultKPlusOneFeatureLayer, resolveKPlusOneMlpConfig } from '../../src/models/kplusone-mlp';
import { initWeightNorm } from '../../src/models/layers/weight-norm-dense';
import { DcganTrainer, seededNoise } from '../../src/training/dcgan-trainer';
import { KPlusOneTrainer } from '../../src/training/kplusone-trainer';

/**
 * Training steps on wasm with ganql's kernels against PyTorch 1.13's losses for the same steps,
 * stored from `npx tsx bench/train-step.ts` (which loads tfjs's initial weights, batches and noise
 * into PyTorch; the inputs below are the bench's). PyTorch is not needed here.
 */
const PYTORCH_DCGAN = [
  { discriminator: 1.39931, generator: 0.719818 },
  { discriminator: 1.171588, generator: 0.786121 },
  { discriminator: 0.945892, generator: 0.904709 },
];
/** The K+1 step without D's noise (sigma 0 on both sides), first step. */
const PYTORCH_KPLUSONE = { discriminator: 4.767747, generator: 9.637617 };

// wasm's kernels alone first: the native kernels, once registered, stay for the rest of the file.
describe.each([
  { kernels: "wasm's and ganql's wasm kernels", nativeThreads: undefined },
  { kernels: 'the native kernels, 2 threads', nativeThreads: 2 },
])('training steps on $kernels vs PyTorch', ({ nativeThreads }) => {
  const mnist = loadMnist({ split: 'train', limit: 200 });

  beforeAll(async () => {
    const info = await initBackend({ order: ['wasm'], ...(nativeThreads !== undefined ? { nativeThreads } : {}) });
    // The native run must not fall back silently to wasm.
    if (nativeThreads !== undefined) expect(info.native).toHaveProperty('isa');
  });

  it('DCGAN (batch 64, k=1): the losses of 3 steps agree within 1e-4', () => {
    const before = tf.memory().numTensors;
    const batch = 64;
    const real = tf.tensor4d(mnist.images.subarray(0, batch * 784), [batch, 28, 28, 1]);
    const generator = buildGenerator();
    const discriminator = buildDiscriminator();
    const trainer = new DcganTrainer(generator, discriminator, { images: mnist.images, count: mnist.count, shape: [28, 28, 1] }, { batchSize: batch });
    const noise = seededNoise(3 * 2 * batch, 100, 7);
    const z = (j: number) => noise.subarray(j * batch * 100, (j + 1) * batch * 100);
    PYTORCH_DCGAN.forEach((expected, i) => {
      const losses = trainer.trainStep([real], [z(2 * i), z(2 * i + 1)]);
      console.log(
        `DCGAN step ${i + 1}: |diff| D ${Math.abs(losses.discriminator - expected.discriminator).toExponential(1)}, G ${Math.abs(losses.generator - expected.generator).toExponential(1)}`,
      );
      expect(Math.abs(losses.discriminator - expected.discriminator), `D loss, step ${i + 1}`).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(losses.generator - expected.generator), `G loss, step ${i + 1}`).toBeLessThanOrEqual(1e-4);
    });
    trainer.dispose();
    generator.dispose();
    discriminator.dispose();
    real.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('K+1 MLP (batch 100+100+100, feature matching): the first step agrees within 1e-4 relative', () => {
    const before = tf.memory().numTensors;
    const batch = 100;
    const config = { ...resolveKPlusOneMlpConfig(), inputNoise: 0, hiddenNoise: 0 };
    const shape: [number, number, number, number] = [batch, 28, 28, 1];
    const labelledImages = mnist.images.subarray(0, batch * 784);
    const labelled = { images: tf.tensor4d(labelledImages, shape), labels: tf.tensor1d(new Int32Array(mnist.labels.subarray(0, batch)), 'int32') };
    const unlabelled = tf.tensor4d(mnist.images.subarray(batch * 784, 2 * batch * 784), shape);
    const generator = buildKPlusOneGenerator(config);
    const discriminator = buildKPlusOneDiscriminator(config);
    initWeightNorm(discriminator, unlabelled);
    const trainer = new KPlusOneTrainer(
      generator,
      discriminator,
      { images: mnist.images, count: mnist.count, shape: [28, 28, 1] },
      { images: labelledImages, labels: mnist.labels.subarray(0, batch), count: batch },
      {
        learningRate: 0.003,
        beta1: 0.5,
        unsupervisedWeight: 0.5,
        averageRate: 0.005,
        batchSize: batch,
        k: 1,
        seed: 1,
        featureLayer: defaultKPlusOneFeatureLayer(config),
      },
    );
    const noise = seededNoise(2 * batch, 100, 17);
    const losses = trainer.trainStep([labelled], [unlabelled], [noise.subarray(0, batch * 100), noise.subarray(batch * 100)], 0);
    expect(Math.abs(losses.discriminator - PYTORCH_KPLUSONE.discriminator) / PYTORCH_KPLUSONE.discriminator).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(losses.generator - PYTORCH_KPLUSONE.generator) / PYTORCH_KPLUSONE.generator).toBeLessThanOrEqual(1e-4);
    trainer.dispose();
    generator.dispose();
    discriminator.dispose();
    tf.dispose([labelled.images, labelled.labels, unlabelled]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
