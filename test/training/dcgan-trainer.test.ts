import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { buildDiscriminator, buildGenerator } from '../../src/models/dcgan';
import { DcganTrainer, resolveTrainerOptions, seededNoise, type Losses } from '../../src/training/dcgan-trainer';

const tiny = { generatorFilters: 8, discriminatorFilters: 8, latentSize: 16, seed: 5 };

async function run(seed: number, steps: number): Promise<{ losses: Losses[]; weightsChanged: boolean; tensorCounts: number[]; sample: Float32Array }> {
  const data = loadMnist({ split: 'train', limit: 64 });
  const g = buildGenerator(tiny);
  const d = buildDiscriminator(tiny);
  const gBefore = g.getLayer('g_up1').getWeights()[0].dataSync().slice();
  const trainer = new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize: 16, seed });
  const losses: Losses[] = [];
  const tensorCounts: number[] = [];
  await trainer.trainEpoch(0, (p) => {
    losses.push(p.losses);
    tensorCounts.push(tf.memory().numTensors);
    expect(p.stepsPerEpoch).toBe(steps);
    expect(p.msPerStep).toBeGreaterThan(0);
  });
  const gAfter = g.getLayer('g_up1').getWeights()[0].dataSync();
  const weightsChanged = gAfter.some((v, i) => v !== gBefore[i]);
  const sample = trainer.generate(seededNoise(2, 16, 1), 2)[0];
  trainer.dispose();
  g.dispose();
  d.dispose();
  return { losses, weightsChanged, tensorCounts, sample };
}

describe('DcganTrainer', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('trains a few steps: finite losses, weights change, no tensor leak, seeded runs repeat exactly', async () => {
    const before = tf.memory().numTensors;
    const a = await run(1, 4);
    expect(a.losses).toHaveLength(4);
    for (const l of a.losses) {
      expect(Number.isFinite(l.generator)).toBe(true);
      expect(Number.isFinite(l.discriminator)).toBe(true);
      expect(l.discriminator).toBeGreaterThan(0);
    }
    expect(a.weightsChanged).toBe(true);
    // Flat from the second step (the first creates the Adam moment variables).
    expect(new Set(a.tensorCounts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.sample).toHaveLength(784);
    expect(a.sample.every((v) => v >= -1 && v <= 1)).toBe(true);

    const b = await run(1, 4);
    expect(b.losses).toEqual(a.losses);
    expect(Array.from(b.sample)).toEqual(Array.from(a.sample));
    const c = await run(2, 4);
    expect(c.losses).not.toEqual(a.losses);
  });

  it('starts near the chance losses of a balanced game', async () => {
    const { losses } = await run(3, 4);
    // D(x) ~ 0.5 at initialisation: D loss ~ 2 ln 2, G loss ~ ln 2.
    expect(losses[0].discriminator).toBeGreaterThan(1.0);
    expect(losses[0].discriminator).toBeLessThan(1.8);
    expect(losses[0].generator).toBeGreaterThan(0.4);
    expect(losses[0].generator).toBeLessThan(1.0);
  });

  it('runs k discriminator steps per generator step and validates options', () => {
    expect(() => resolveTrainerOptions({ k: 0 })).toThrow('k: expected a positive integer, got 0');
    expect(() => resolveTrainerOptions({ beta1: 1 })).toThrow('beta1: expected [0, 1), got 1');
    const data = loadMnist({ limit: 64 });
    const g = buildGenerator(tiny);
    const d = buildDiscriminator(tiny);
    const trainer = new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize: 16, k: 2 });
    expect(trainer.stepsPerEpoch()).toBe(2);
    const batches = [tf.zeros<tf.Rank.R4>([16, 28, 28, 1])];
    expect(() => trainer.trainStep(batches, [new Float32Array(256), new Float32Array(256)])).toThrow('expected 2 real batches and 3 noise arrays, got 1 and 2');
    tf.dispose(batches);
    expect(() => new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize: 128 })).toThrow(
      'Expected at least batchSize*k = 128 images, got 64',
    );
    trainer.dispose();
    g.dispose();
    d.dispose();
  });
});
