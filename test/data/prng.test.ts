import { describe, expect, it } from 'vitest';
import { createPrng, shuffledIndices } from '../../src/data/prng';

describe('createPrng (mulberry32)', () => {
  it('matches the reference mulberry32 sequence for seed 1', () => {
    const p = createPrng(1);
    // First outputs of the canonical mulberry32 with seed 1, times 2^32.
    expect([p.next(), p.next(), p.next()].map((v) => v * 4294967296)).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('is reproducible and seed-dependent', () => {
    const a = Array.from({ length: 5 }, createPrng(42).next);
    const b = createPrng(42);
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(a);
    const c = createPrng(43);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(a);
  });

  it('draws normals with mean ~0 and std ~1', () => {
    const p = createPrng(5);
    const xs = Array.from({ length: 20000 }, () => p.nextNormal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
  });

  it('shuffles into a permutation', () => {
    const s = shuffledIndices(100, createPrng(3));
    expect(Array.from(s).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(s)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
