import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { combine, interpolate, lerp, mean, slerp, uniformNeighbour } from '../../src/latent/latent-math';

const v = (...x: number[]) => Float32Array.from(x);

describe('latent math', () => {
  it('lerp and its midpoint are the hand-computed values', () => {
    expect(lerp(v(0, 2, -4), v(2, 4, 0), 0.5)).toEqual(v(1, 3, -2));
    expect(lerp(v(0, 2), v(2, 4), 0.25)).toEqual(v(0.5, 2.5));
  });

  it('slerp walks the great circle: a quarter turn between orthogonal unit vectors', () => {
    const mid = slerp(v(1, 0), v(0, 1), 0.5);
    expect(mid[0]).toBeCloseTo(Math.SQRT1_2, 7);
    expect(mid[1]).toBeCloseTo(Math.SQRT1_2, 7);
    const third = slerp(v(1, 0), v(0, 1), 1 / 3);
    expect(third[0]).toBeCloseTo(Math.cos(Math.PI / 6), 7);
    expect(third[1]).toBeCloseTo(Math.sin(Math.PI / 6), 7);
    // Norms interpolate too: between |a| = 2 and |b| = 2 the path stays on the radius-2 circle.
    const r = slerp(v(2, 0), v(0, 2), 0.7);
    expect(Math.hypot(r[0], r[1])).toBeCloseTo(2, 6);
  });

  it('slerp returns the endpoints exactly and falls back to lerp for parallel or zero vectors', () => {
    const a = v(0.3, -1.7, 2.2);
    const b = v(-0.9, 0.4, 1.1);
    expect(slerp(a, b, 0)).toEqual(a);
    expect(slerp(a, b, 1)).toEqual(b);
    expect(slerp(v(1, 1), v(2, 2), 0.5)).toEqual(v(1.5, 1.5));
    expect(slerp(v(0, 0), v(2, 2), 0.5)).toEqual(v(1, 1));
  });

  it('interpolate gives steps points from a to b', () => {
    const walk = interpolate(v(0, 0), v(4, 8), 5, 'LINEAR');
    expect(walk).toEqual([v(0, 0), v(1, 2), v(2, 4), v(3, 6), v(4, 8)]);
    expect(() => interpolate(v(0), v(1), 1, 'LINEAR')).toThrow('expected steps >= 2, got 1');
  });

  it('mean and combine compute A - B + C of concept means', () => {
    expect(mean([v(1, 2), v(3, 4), v(5, 9)])).toEqual(v(3, 5));
    expect(combine([1, -1, 1], [v(1, 1), v(0.5, 2), v(2, 0)])).toEqual(v(2.5, -1));
    expect(() => combine([1], [v(1), v(2)])).toThrow('expected one coefficient per vector, got 1 and 2');
  });

  it('uniform neighbours stay within the noise scale on every coordinate and depend on the seed', () => {
    const center = v(0, 1, -1, 5);
    const prng = createPrng(3);
    const neighbours = Array.from({ length: 50 }, () => uniformNeighbour(center, 0.25, prng));
    for (const n of neighbours) n.forEach((x, i) => expect(Math.abs(x - center[i])).toBeLessThanOrEqual(0.25 + 1e-6));
    expect(neighbours[0]).not.toEqual(neighbours[1]);
    expect(uniformNeighbour(center, 0.25, createPrng(3))).toEqual(neighbours[0]);
  });
});
