import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { kernelInceptionDistance, polynomialMmd2Unbiased } from '../../src/evaluation/kid';
import type { Matrix } from '../../src/evaluation/matrix';

function normalRows(rows: number, cols: number, seed: number, shift = 0): Matrix {
  const p = createPrng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = p.nextNormal() + shift;
  return { data, rows, cols };
}

/** The estimator written out naively over full kernel matrices, as torch-fidelity's mmd2. */
function naiveMmd2(x: Matrix, y: Matrix): number {
  const m = x.rows;
  const d = x.cols;
  const k = (a: Matrix, i: number, b: Matrix, j: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) s += a.data[i * d + t] * b.data[j * d + t];
    return (s / d + 1) ** 3;
  };
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i !== j) {
        xx += k(x, i, x, j);
        yy += k(y, i, y, j);
      }
      xy += k(x, i, y, j);
    }
  }
  return (xx + yy) / (m * (m - 1)) - (2 * xy) / (m * m);
}

describe('polynomialMmd2Unbiased', () => {
  it('matches a hand computation in one dimension', () => {
    // d = 1, k(a, b) = (ab + 1)^3. X = {0, 1}, Y = {0, 2}.
    // Off-diagonal K_XX: k(0,1) twice = 2; K_YY: k(0,2) twice = 2.
    // K_XY: k(0,0) + k(0,2) + k(1,0) + k(1,2) = 1 + 1 + 1 + 27 = 30.
    // MMD^2 = (2 + 2) / (2 * 1) - 2 * 30 / 4 = 2 - 15 = -13 (the unbiased estimate can be negative).
    const x: Matrix = { data: new Float64Array([0, 1]), rows: 2, cols: 1 };
    const y: Matrix = { data: new Float64Array([0, 2]), rows: 2, cols: 1 };
    expect(polynomialMmd2Unbiased(x, y)).toBeCloseTo(-13, 12);
  });

  it('matches the naive full-matrix formula on odd sizes (every tile remainder path)', () => {
    for (const [m, d] of [
      [7, 5],
      [8, 3],
      [2, 9],
      [3, 1],
    ]) {
      const x = normalRows(m, d, m * 10 + d);
      const y = normalRows(m, d, m * 10 + d + 1, 0.3);
      expect(polynomialMmd2Unbiased(x, y)).toBeCloseTo(naiveMmd2(x, y), 10);
    }
  });
});

describe('kernelInceptionDistance', () => {
  const a = normalRows(300, 16, 1);
  const b = normalRows(300, 16, 2);
  const shifted = normalRows(300, 16, 3, 0.5);

  it('is ~0 for two samples of one distribution and clearly positive for shifted sets', () => {
    const same = kernelInceptionDistance(a, b, { subsetSize: 100, subsets: 20, seed: 1 });
    const far = kernelInceptionDistance(a, shifted, { subsetSize: 100, subsets: 20, seed: 1 });
    expect(Math.abs(same.mean)).toBeLessThan(0.05);
    expect(far.mean).toBeGreaterThan(0.3);
    expect(far.mean).toBeGreaterThan(10 * Math.abs(same.mean));
    expect(same.subsetValues).toHaveLength(20);
    // Population std of the subset values.
    const m = far.subsetValues.reduce((s, v) => s + v, 0) / 20;
    expect(far.std).toBeCloseTo(Math.sqrt(far.subsetValues.reduce((s, v) => s + (v - m) ** 2, 0) / 20), 12);
    const self = kernelInceptionDistance(a, a, { subsetSize: 100, subsets: 20, seed: 1 });
    expect(Math.abs(self.mean)).toBeLessThan(0.05);
  });

  it('is reproducible for a seed and changes with it', () => {
    const o = { subsetSize: 50, subsets: 5 };
    expect(kernelInceptionDistance(a, shifted, { ...o, seed: 4 }).subsetValues).toEqual(kernelInceptionDistance(a, shifted, { ...o, seed: 4 }).subsetValues);
    expect(kernelInceptionDistance(a, shifted, { ...o, seed: 4 }).subsetValues).not.toEqual(
      kernelInceptionDistance(a, shifted, { ...o, seed: 5 }).subsetValues,
    );
  });

  it('rejects subsets larger than a set, and feature sets of different widths', () => {
    expect(() => kernelInceptionDistance(a, b)).toThrow("subsetSize: expected an integer in [2, 300] (the smaller set's size), got 1000");
    expect(() => kernelInceptionDistance(a, normalRows(300, 8, 9), { subsetSize: 10 })).toThrow('expected feature sets of equal width, got 16 and 8');
  });
});
