import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { relativeDiff } from '../../helpers/compare';

/**
 * ganql's wasm Sum and Mean (leading axes as one product with a ones row) against the cpu backend,
 * within 1e-5 of the largest |result| (float32 sums of up to 12,544 terms, in another order); other
 * reductions take wasm's own kernels and must match too.
 */
const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
  { shape: [64, 14, 14, 32], axis: [0, 1, 2], keepDims: false },
  { shape: [64, 14, 14, 32], axis: [2, 0, 1], keepDims: true },
  { shape: [6, 11], axis: 0, keepDims: false },
  { shape: [1, 5, 3], axis: [0, 1], keepDims: true },
  { shape: [3, 5, 2], axis: [-3, -2], keepDims: false },
  { shape: [1, 1, 7], axis: [0, 1], keepDims: false },
  // Not leading, or every axis: wasm's own kernels.
  { shape: [3, 4, 5], axis: 1, keepDims: false },
  { shape: [3, 4, 5], axis: [1, 2], keepDims: true },
  { shape: [9], axis: 0, keepDims: false },
];

function reduce(c: (typeof cases)[number], x: Float32Array): { sum: Float32Array; mean: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const t = tf.tensor(x, c.shape);
    const sum = tf.sum(t, c.axis, c.keepDims);
    const mean = tf.mean(t, c.axis, c.keepDims);
    return { sum: sum.dataSync() as Float32Array, mean: mean.dataSync() as Float32Array, shape: sum.shape };
  });
}

describe('Sum and Mean on wasm vs cpu', () => {
  const inputs = cases.map((c, i) => tf.tidy(() => tf.randomNormal(c.shape, 1, 2, 'float32', 500 + i).dataSync() as Float32Array));
  const reference: ReturnType<typeof reduce>[] = [];

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => reference.push(reduce(c, inputs[i])));
    await initBackend({ order: ['wasm'] });
  });

  cases.forEach((c, i) => {
    it(`matches on [${c.shape}] axis ${JSON.stringify(c.axis)} keepDims ${c.keepDims}`, () => {
      const before = tf.memory().numTensors;
      const dataIds = tf.backend().numDataIds();
      const got = reduce(c, inputs[i]);
      expect(got.shape).toEqual(reference[i].shape);
      expect(relativeDiff(got.sum, reference[i].sum)).toBeLessThanOrEqual(1e-5);
      expect(relativeDiff(got.mean, reference[i].mean)).toBeLessThanOrEqual(1e-5);
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.backend().numDataIds()).toBe(dataIds);
    });
  });

  it("sums int32 tensors exactly (wasm's own kernel)", () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const s = tf.sum(x, 0);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([9, 12]);
    tf.dispose([x, s]);
  });
});
