import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { frechetDistance, frechetDistanceOfFeatures, gaussianStats, type GaussianStats } from '../../src/evaluation/fid';
import type { Matrix } from '../../src/evaluation/matrix';

function normalRows(rows: number, cols: number, seed: number, scale: (k: number) => number = () => 1): Matrix {
  const p = createPrng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) data[i * cols + k] = p.nextNormal() * scale(k);
  return { data, rows, cols };
}

/** Product of Givens rotations in every plane (i, j): an orthogonal matrix built without an eigensolver. */
function rotation(n: number, seed: number): Float64Array {
  const p = createPrng(seed);
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) r[i * n + i] = 1;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const t = p.next() * 2 * Math.PI;
      const c = Math.cos(t);
      const s = Math.sin(t);
      for (let k = 0; k < n; k++) {
        const a = r[k * n + i];
        const b = r[k * n + j];
        r[k * n + i] = c * a - s * b;
        r[k * n + j] = s * a + c * b;
      }
    }
  }
  return r;
}

/** R diag(d) R^T. */
function rotated(r: Float64Array, d: number[]): Float64Array {
  const n = d.length;
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let k = 0; k < n; k++) out[a * n + b] += r[a * n + k] * d[k] * r[b * n + k];
  return out;
}

function stats(mean: number[], cov: Float64Array): GaussianStats {
  return { dim: mean.length, count: 100, mean: Float64Array.from(mean), cov };
}

describe('gaussianStats', () => {
  it('computes the mean and the unbiased (N - 1) covariance by hand', () => {
    // Rows (1,2), (3,6), (5,4): mean (3,4); centred (-2,-2), (0,2), (2,0);
    // sum of outer products [[8,4],[4,8]], divided by N - 1 = 2: [[4,2],[2,4]].
    const s = gaussianStats([
      [1, 2],
      [3, 6],
      [5, 4],
    ]);
    expect(Array.from(s.mean)).toEqual([3, 4]);
    expect(Array.from(s.cov)).toEqual([4, 2, 2, 4]);
    expect(s.count).toBe(3);
    expect(() => gaussianStats([[1, 2]])).toThrow('expected at least 2 feature rows for a covariance, got 1');
  });

  it('agrees with a naive covariance across several row chunks (N = 1100 > 512) and odd D', () => {
    const f = normalRows(1100, 7, 8, (k) => k + 1);
    const s = gaussianStats(f);
    for (let a = 0; a < 7; a++) {
      for (let b = 0; b < 7; b++) {
        let c = 0;
        for (let i = 0; i < 1100; i++) c += (f.data[i * 7 + a] - s.mean[a]) * (f.data[i * 7 + b] - s.mean[b]);
        expect(s.cov[a * 7 + b]).toBeCloseTo(c / 1099, 12);
      }
    }
  });
});

describe('frechetDistance', () => {
  it('is ~0 between a set and itself (< 1e-8 relative to the traces)', () => {
    const f = normalRows(200, 16, 1, (k) => 1 + k / 4);
    const s = gaussianStats(f);
    let trace = 0;
    for (let k = 0; k < 16; k++) trace += s.cov[k * 16 + k];
    const fid = frechetDistance(s, s);
    expect(Math.abs(fid) / (2 * trace)).toBeLessThan(1e-8);
  });

  it('matches the closed form for diagonal covariances: |mu1 - mu2|^2 + sum (sqrt a - sqrt b)^2', () => {
    // mu diff (-1, 0, 2): 1 + 0 + 4 = 5; (1-2)^2 + (2-1)^2 + (3-4)^2 = 3; FID = 8.
    const s1 = stats([0, 1, 2], new Float64Array([1, 0, 0, 0, 4, 0, 0, 0, 9]));
    const s2 = stats([1, 1, 0], new Float64Array([4, 0, 0, 0, 1, 0, 0, 0, 16]));
    expect(frechetDistance(s1, s2)).toBeCloseTo(8, 12);
    expect(frechetDistance(s2, s1)).toBeCloseTo(8, 12);
  });

  it('matches the closed form for commuting covariances in a rotated basis (the non-diagonal path)', () => {
    const a = [0.5, 1, 2, 3, 4, 9];
    const b = [2, 1, 0.25, 3, 1, 4];
    const r = rotation(6, 3);
    const s1 = stats([1, 2, 3, 4, 5, 6], rotated(r, a));
    const s2 = stats([1, 2, 3, 4, 5, 7], rotated(r, b));
    const expected = 1 + a.reduce((s, ai, k) => s + (Math.sqrt(ai) - Math.sqrt(b[k])) ** 2, 0);
    expect(frechetDistance(s1, s2)).toBeCloseTo(expected, 10);
  });

  it('stays finite and non-negative (to rounding) on rank-deficient covariances (N < D, zero-variance features)', () => {
    // 10 rows in 32 dimensions: covariances of rank <= 9. Feature 0 is constant: a zero row and column.
    const f1 = normalRows(10, 32, 4);
    const f2 = normalRows(10, 32, 5, () => 2);
    for (const f of [f1, f2]) for (let i = 0; i < 10; i++) f.data[i * 32] = 3;
    const fid = frechetDistanceOfFeatures(f1, f2);
    expect(Number.isFinite(fid)).toBe(true);
    expect(fid).toBeGreaterThan(0);
    const s1 = gaussianStats(f1);
    const self = frechetDistance(s1, s1);
    let trace = 0;
    for (let k = 0; k < 32; k++) trace += s1.cov[k * 32 + k];
    expect(Number.isFinite(self)).toBe(true);
    expect(Math.abs(self) / (2 * trace)).toBeLessThan(1e-8);
  });

  it('grows with a mean shift exactly by |shift|^2 when covariances are equal', () => {
    const f = normalRows(100, 8, 6);
    const shifted: Matrix = { ...f, data: f.data.map((v, i) => (i % 8 === 2 ? v + 3 : v)) };
    expect(frechetDistanceOfFeatures(f, shifted)).toBeCloseTo(9, 8);
  });

  it('rejects stats of different dimensions', () => {
    const s1 = stats([0, 0], new Float64Array([1, 0, 0, 1]));
    const s2 = stats([0], new Float64Array([1]));
    expect(() => frechetDistance(s1, s2)).toThrow('expected stats of equal dimension, got 2 and 1');
    expect(() => frechetDistance({ ...s1, cov: new Float64Array(3) }, s1)).toThrow('stats1.cov: expected 2 x 2 = 4 values, got 3');
  });
});
