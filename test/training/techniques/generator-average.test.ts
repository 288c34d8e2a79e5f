import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { createPrng } from '../../../src/data/prng';
import { buildGenerator } from '../../../src/models/dcgan';
import { seededNoise } from '../../../src/training/dcgan-trainer';
import { GeneratorAverage, STANDING_BATCHES, STANDING_NOISE_SALT } from '../../../src/training/techniques/generator-average';
import { movingStatistics, standingStatistics } from '../../../src/training/techniques/standing-statistics';
import { variablesOf } from '../../../src/training/trainable-variables';

const flat = (ts: readonly tf.Tensor[]): number[][] => ts.map((t) => Array.from(t.dataSync()));

function maxDiff(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((v, i) => v.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b[i][j])))));
  return worst;
}

describe('GeneratorAverage', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it("swaps in the bias-corrected moving average of G's parameters with their standing batchnorm statistics, and puts G back", async () => {
    const g = buildGenerator({ latentSize: 8, generatorFilters: 8, seed: 2 });
    const params = variablesOf(g);
    const before = tf.memory().numTensors;
    const rate = 0.3;
    const noise = { batchSize: 16, latentSize: 8, seed: 5 };
    const average = new GeneratorAverage(g, params, rate, noise);
    // The hand-computed average, in float64: m += rate * (theta - m), read as m / (1 - (1 - rate)^t).
    let means = flat(params).map((v) => v.map(() => 0));
    for (let step = 1; step <= 3; step++) {
      tf.tidy(() => params.forEach((p, i) => p.assign(tf.randomNormal(p.shape, 0, 0.1, 'float32', step * 100 + i))));
      average.update();
      const theta = flat(params);
      means = means.map((m, i) => m.map((x, j) => x + rate * (theta[i][j] - x)));
    }
    const corrected = means.map((m) => m.map((x) => x / (1 - Math.pow(1 - rate, 3))));
    expect(average.count).toBe(3);
    const averages = average.averages();
    expect(maxDiff(flat(averages), corrected)).toBeLessThan(1e-6);
    tf.dispose(averages);

    // The standing statistics' latents, as the class draws them.
    const prng = createPrng(noise.seed + STANDING_NOISE_SALT);
    const size = noise.batchSize * noise.latentSize;
    const z = Float32Array.from({ length: STANDING_BATCHES * size }, () => prng.nextNormal());
    const live = flat(params);
    const liveStats = movingStatistics(g);
    const liveStatValues = flat(liveStats.flat());
    const inside = average.use(() => {
      const batches = Array.from({ length: STANDING_BATCHES }, (_, b) =>
        tf.tensor2d(z.subarray(b * size, (b + 1) * size), [noise.batchSize, noise.latentSize]),
      );
      const expected = standingStatistics(g, batches);
      const seen = movingStatistics(g);
      const out = { params: flat(params), stats: flat(seen.flat()), expected: flat(expected.flat()) };
      tf.dispose([...batches, ...expected.flat(), ...seen.flat()]);
      return out;
    });
    expect(maxDiff(inside.params, corrected)).toBeLessThan(1e-6);
    expect(maxDiff(inside.stats, inside.expected)).toBe(0);
    // Recomputed: not the statistics G was trained with.
    expect(maxDiff(inside.stats, liveStatValues)).toBeGreaterThan(1e-3);
    // G is back as it was, and so after the async form.
    expect(maxDiff(flat(params), live)).toBe(0);
    const after = movingStatistics(g);
    expect(maxDiff(flat(after.flat()), liveStatValues)).toBe(0);
    tf.dispose(after.flat());
    const asyncSeen = await average.useAsync(async () => {
      await new Promise((r) => setImmediate(r));
      return flat(params);
    });
    expect(maxDiff(asyncSeen, corrected)).toBeLessThan(1e-6);
    expect(maxDiff(flat(params), live)).toBe(0);

    // A checkpoint's snapshot restores the same averages into a fresh instance.
    const snapshot = average.snapshot();
    const restored = new GeneratorAverage(g, params, rate, noise);
    restored.restore(snapshot, average.count);
    const again = restored.averages();
    expect(maxDiff(flat(again), corrected)).toBeLessThan(1e-6);
    tf.dispose([...snapshot, ...again]);
    restored.dispose();
    average.dispose();
    tf.dispose(liveStats.flat());
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
  });

  it('leaks no tensors across updates and uses', () => {
    const g = buildGenerator({ latentSize: 8, generatorFilters: 8 });
    const params = variablesOf(g);
    const before = tf.memory().numTensors;
    const average = new GeneratorAverage(g, params, 0.1, { batchSize: 8, latentSize: 8, seed: 1 });
    for (let i = 0; i < 3; i++) {
      average.update();
      average.use(() => tf.tidy(() => (g.predict(tf.tensor2d(seededNoise(4, 8, i), [4, 8])) as tf.Tensor).dataSync()));
    }
    average.dispose();
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
  });
});
