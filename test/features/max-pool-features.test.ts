import { describe, expect, it } from 'vitest';
import { concatenatedFeatures, maxPoolFeatures, pooledFeatureCount } from '../../src/features/max-pool-features';

describe('maxPoolFeatures (DCGAN: conv maps max-pooled to 4x4)', () => {
  it('pools an 8x8 map into 2x2 cells, per channel, cell-major', () => {
    // Channel 0: value y * 8 + x; channel 1: its negation. Cell (gy, gx) covers rows 2gy..2gy+1,
    // cols 2gx..2gx+1: channel 0 max = (2gy + 1) * 8 + 2gx + 1, channel 1 max = -(2gy * 8 + 2gx).
    const values = new Float32Array(8 * 8 * 2);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        values[(y * 8 + x) * 2] = y * 8 + x;
        values[(y * 8 + x) * 2 + 1] = -(y * 8 + x);
      }
    const pooled = maxPoolFeatures(values, [8, 8, 2]);
    expect(pooled).toHaveLength(32);
    const expected: number[] = [];
    for (let gy = 0; gy < 4; gy++) for (let gx = 0; gx < 4; gx++) expected.push((2 * gy + 1) * 8 + 2 * gx + 1, -(2 * gy * 8 + 2 * gx));
    expect(Array.from(pooled)).toEqual(expected);
  });

  it('uses overlapping adaptive cells on a 7x7 map: rows [0,2) [1,4) [3,6) [5,7)', () => {
    // One channel, a single 1 at (y, x) = (3, 5): rows 3 is in cells 1 and 2, column 5 in cells 2 and 3.
    const values = new Float32Array(49);
    values[3 * 7 + 5] = 1;
    const pooled = Array.from(maxPoolFeatures(values, [7, 7, 1]));
    const ones = pooled.flatMap((v, i) => (v === 1 ? [i] : []));
    expect(ones).toEqual([1 * 4 + 2, 1 * 4 + 3, 2 * 4 + 2, 2 * 4 + 3]);
  });

  it('takes the whole-map maximum of a map smaller than 4x4, and dense outputs as they are', () => {
    expect(Array.from(maxPoolFeatures([1, 9, 5, 2, 3, 4], [3, 1, 2]))).toEqual([5, 9]);
    expect(Array.from(maxPoolFeatures([0.5, -2], [2]))).toEqual([0.5, -2]);
    expect(pooledFeatureCount([14, 14, 32])).toBe(512);
    expect(pooledFeatureCount([3, 3, 8])).toBe(8);
    expect(pooledFeatureCount([10])).toBe(10);
    expect(() => maxPoolFeatures([1, 2], [3])).toThrow(/expected 3 values for shape \[3\], got 2/);
  });

  it('concatenates layers in order', () => {
    expect(
      Array.from(
        concatenatedFeatures([
          { values: [1, 2], shape: [2] },
          { values: [4, 3, 7, 1], shape: [2, 2, 1] },
        ]),
      ),
    ).toEqual([1, 2, 7]);
  });
});
