import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { symmetricEigen } from '../../src/evaluation/symmetric-eigen';

function randomSymmetric(n: number, seed: number): Float64Array {
  const p = createPrng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = p.nextNormal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

describe('symmetricEigen (Householder + implicit QL)', () => {
  it('solves [[2, 1], [1, 2]] by hand: eigenvalues 1 and 3, vectors (1, -1)/sqrt2 and (1, 1)/sqrt2', () => {
    const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    const v = vectors as Float64Array;
    // Signs are arbitrary; compare up to sign.
    expect(Math.abs(v[0])).toBeCloseTo(Math.SQRT1_2, 14);
    expect(v[0] * v[1]).toBeCloseTo(-0.5, 14);
    expect(v[2] * v[3]).toBeCloseTo(0.5, 14);
  });

  it("returns a diagonal matrix's entries sorted, and handles 1 x 1 and all-zero matrices", () => {
    expect(Array.from(symmetricEigen(new Float64Array([5, 0, 0, 0, -2, 0, 0, 0, 3]), 3).values)).toEqual([-2, 3, 5]);
    expect(Array.from(symmetricEigen(new Float64Array([7]), 1).values)).toEqual([7]);
    expect(Array.from(symmetricEigen(new Float64Array(9), 3).values)).toEqual([0, 0, 0]);
  });

  it('satisfies A v = lambda v with orthonormal vectors on a random 40 x 40 matrix; values-only agrees', () => {
    const n = 40;
    const a = randomSymmetric(n, 7);
    const { values, vectors } = symmetricEigen(a, n);
    const v = vectors as Float64Array;
    let maxResidual = 0;
    let maxOrtho = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * v[j * n + k];
        maxResidual = Math.max(maxResidual, Math.abs(s - values[j] * v[j * n + i]));
      }
      for (let l = 0; l < n; l++) {
        let d = 0;
        for (let k = 0; k < n; k++) d += v[j * n + k] * v[l * n + k];
        maxOrtho = Math.max(maxOrtho, Math.abs(d - (j === l ? 1 : 0)));
      }
    }
    expect(maxResidual).toBeLessThan(1e-12);
    expect(maxOrtho).toBeLessThan(1e-13);
    for (let j = 1; j < n; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
    // Trace = sum of eigenvalues.
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 10);
    const only = symmetricEigen(a, n, { vectors: false });
    expect(only.vectors).toBeUndefined();
    for (let j = 0; j < n; j++) expect(only.values[j]).toBeCloseTo(values[j], 12);
  });

  it('does not modify its input and rejects bad input', () => {
    const a = new Float64Array([2, 1, 1, 2]);
    symmetricEigen(a, 2);
    expect(Array.from(a)).toEqual([2, 1, 1, 2]);
    expect(() => symmetricEigen(new Float64Array(3), 2)).toThrow('expected 2 x 2 = 4 values, got 3');
    expect(() => symmetricEigen(new Float64Array([1, NaN, NaN, 1]), 2)).toThrow('entry 1: expected a finite number, got NaN');
  });
});
