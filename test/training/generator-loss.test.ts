import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { buildDiscriminator, buildGenerator } from '../../src/models/dcgan';
import { dAccuracy, DcganTrainer, generatorAdversarialLoss, type EpochStats } from '../../src/training/dcgan-trainer';

const softplus = (x: number): number => Math.log1p(Math.exp(x));
const tiny = { generatorFilters: 4, discriminatorFilters: 4, latentSize: 8, seed: 5 };

async function epoch(generatorLoss: 'non-saturating' | 'minimax'): Promise<{ steps: EpochStats[]; mean: EpochStats }> {
  const data = loadMnist({ split: 'train', limit: 32 });
  const g = buildGenerator(tiny);
  const d = buildDiscriminator(tiny);
  const trainer = new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize: 16, seed: 1, generatorLoss });
  const steps: EpochStats[] = [];
  const mean = await trainer.trainEpoch(0, (p) => steps.push({ ...p.losses, dAccuracyReal: 0, dAccuracyFake: 0, steps: 1 }));
  trainer.dispose();
  g.dispose();
  d.dispose();
  return { steps, mean };
}

describe("the generator's loss and D's accuracy", () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('non-saturating and minimax match hand-computed values', () => {
    const before = tf.memory().numTensors;
    const [ns, mm] = tf.tidy(() => {
      const logits = tf.tensor2d([[0], [2], [-1]]);
      return [generatorAdversarialLoss(logits, 'non-saturating').dataSync()[0], generatorAdversarialLoss(logits, 'minimax').dataSync()[0]];
    });
    // -log sigmoid(l) = softplus(-l); log(1 - sigmoid(l)) = -softplus(l).
    expect(ns).toBeCloseTo((softplus(0) + softplus(-2) + softplus(1)) / 3, 5);
    expect(mm).toBeCloseTo(-(softplus(0) + softplus(2) + softplus(-1)) / 3, 5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('D accuracy counts real logits > 0 and fake logits < 0', () => {
    const [real, fake] = tf.tidy(() => {
      const logits = tf.tensor1d([-1, 2, 3, -0.5, 0]);
      return [dAccuracy(logits, true).dataSync()[0], dAccuracy(logits, false).dataSync()[0]];
    });
    expect(real).toBeCloseTo(2 / 5, 6); // 2 and 3 (0 is not > 0)
    expect(fake).toBeCloseTo(2 / 5, 6); // -1 and -0.5
  });

  it("minimax changes only G's loss: the first D step is the same, G's loss differs", async () => {
    const ns = await epoch('non-saturating');
    const mm = await epoch('minimax');
    expect(ns.steps).toHaveLength(2);
    // D's first update sees the same G and D weights and batches in both runs.
    expect(mm.steps[0].discriminator).toBe(ns.steps[0].discriminator);
    expect(mm.steps[0].generator).not.toBe(ns.steps[0].generator);
    // At D ~ 0.5, minimax G loss ~ log(1 - 0.5) < 0; non-saturating ~ -log 0.5 > 0.
    expect(mm.steps[0].generator).toBeLessThan(0);
    expect(ns.steps[0].generator).toBeGreaterThan(0);
    for (const r of [ns.mean, mm.mean]) {
      expect(r.dAccuracyReal).toBeGreaterThanOrEqual(0);
      expect(r.dAccuracyReal).toBeLessThanOrEqual(1);
      expect(r.dAccuracyFake).toBeGreaterThanOrEqual(0);
      expect(r.dAccuracyFake).toBeLessThanOrEqual(1);
      expect(r.steps).toBe(2);
    }
  });
});
