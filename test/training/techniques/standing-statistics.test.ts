import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { buildGenerator } from '../../../src/models/dcgan';
import { seededNoise } from '../../../src/training/dcgan-trainer';
import { batchNormLayers, movingStatistics, setMovingStatistics, standingStatistics } from '../../../src/training/techniques/standing-statistics';

/** Each layer's [mean, variance] as plain numbers. */
function values(stats: [tf.Tensor, tf.Tensor][]): number[][][] {
  return stats.map((pair) => pair.map((t) => Array.from(t.dataSync())));
}

function maxDiff(a: number[][][], b: number[][][]): number {
  let worst = 0;
  a.forEach((pair, i) => pair.forEach((v, j) => v.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - b[i][j][k]))))));
  return worst;
}

describe('standingStatistics', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it("is the mean over the batches of each batchnorm's batch mean and batch variance, and leaves the model's own statistics as they were", () => {
    const g = buildGenerator({ latentSize: 8, generatorFilters: 8, seed: 3 });
    const batches = [1, 2, 3].map((s) => tf.tensor2d(seededNoise(16, 8, s), [16, 8]));
    // Move the moving statistics away from their initial 0 and 1, so that "as they were" can fail.
    // apply() is typed for symbolic inputs too; a tensor in gives a tensor out.
    tf.dispose(tf.tidy(() => g.apply(tf.tensor2d(seededNoise(16, 8, 9), [16, 8]), { training: true }) as tf.Tensor));
    const before = tf.memory().numTensors;
    const live = movingStatistics(g);
    const liveValues = values(live);
    tf.dispose(live.flat());

    const stats = standingStatistics(g, batches);
    const standing = values(stats);
    tf.dispose(stats.flat());
    expect(tf.memory().numTensors).toBe(before);
    const after = movingStatistics(g);
    expect(maxDiff(values(after), liveValues)).toBe(0);
    tf.dispose(after.flat());

    // Independently: with momentum 0 tfjs's own layer writes each batch's statistics as its moving ones.
    const layers = batchNormLayers(g) as unknown as { momentum: number }[];
    expect(layers).toHaveLength(2);
    const sums: number[][][] = liveValues.map((pair) => pair.map((v) => v.map(() => 0)));
    for (const batch of batches) {
      // The momentum is a plain field of tfjs's BatchNormalization layer.
      layers.forEach((l) => (l.momentum = 0));
      tf.dispose(tf.tidy(() => g.apply(batch, { training: true }) as tf.Tensor));
      const seen = movingStatistics(g);
      values(seen).forEach((pair, i) => pair.forEach((v, j) => v.forEach((x, k) => (sums[i][j][k] += x / batches.length))));
      tf.dispose(seen.flat());
    }
    // g_project_bn normalises 7*7*16 units, g_up1_bn 8 channels.
    expect(standing.map((pair) => pair.map((v) => v.length))).toEqual([
      [784, 784],
      [8, 8],
    ]);
    expect(maxDiff(standing, sums)).toBeLessThan(1e-5);
    // And they are not the live statistics.
    expect(maxDiff(standing, liveValues)).toBeGreaterThan(1e-3);

    tf.dispose(batches);
    g.dispose();
  });

  it('has nothing to do for a model without batchnorm, and setMovingStatistics checks the count', () => {
    const dense = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const batch = tf.zeros([4, 3]);
    expect(standingStatistics(dense, [batch])).toEqual([]);
    const g = buildGenerator({ latentSize: 8, generatorFilters: 8 });
    expect(() => setMovingStatistics(g, [])).toThrow('setMovingStatistics: expected 2 [mean, variance] pairs, got 0');
    expect(() => standingStatistics(g, [])).toThrow('standingStatistics: expected at least one batch, got none');
    tf.dispose(batch);
    dense.dispose();
    g.dispose();
  });
});
