import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { ParameterAverage } from '../../../src/training/techniques/parameter-average';

describe('ParameterAverage', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('is the bias-corrected exponential average of the values seen, and swaps them in only inside withAverages', async () => {
    const p = tf.variable(tf.tensor1d([1, 2]));
    const before = tf.memory().numTensors;
    const avg = new ParameterAverage([p], 0.5);
    // Before any update the average is the parameter itself.
    expect(Array.from(avg.withAverages(() => p.dataSync()))).toEqual([1, 2]);
    avg.update(); // mean = 0.5 * [1, 2]
    tf.tidy(() => p.assign(tf.tensor1d([3, 6])));
    avg.update(); // mean = 0.25 * [1, 2] + 0.5 * [3, 6] = [1.75, 3.5]; corrected by 1 / (1 - 0.25)
    const seen = avg.withAverages(() => Array.from(p.dataSync()));
    expect(seen[0]).toBeCloseTo(1.75 / 0.75, 5);
    expect(seen[1]).toBeCloseTo(3.5 / 0.75, 5);
    expect(Array.from(p.dataSync())).toEqual([3, 6]);
    const asyncSeen = await avg.withAveragesAsync(async () => {
      await new Promise((r) => setImmediate(r));
      return Array.from(p.dataSync());
    });
    expect(asyncSeen[0]).toBeCloseTo(1.75 / 0.75, 5);
    expect(Array.from(p.dataSync())).toEqual([3, 6]);
    expect(avg.count).toBe(2);
    avg.dispose();
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
    expect(() => new ParameterAverage([], 0)).toThrow('ParameterAverage.rate: expected a number in (0, 1], got 0');
  });
});
