import { describe, expect, it } from 'vitest';
import { philox4x32, philoxNormal } from '../../src/backend/random/philox-normal';

/** The Philox stream behind training noise: Random123's known answers, then the Gaussian's moments and independence of seeds. */
describe('Philox4x32-10 Gaussian noise', () => {
  it("gives Random123's known-answer vectors", () => {
    const out = new Uint32Array(4);
    // Random123 kat_vectors: philox4x32 10 rounds, counter 0 and key 0; counter all ones and key all ones.
    philox4x32(0, 0, 0, out);
    expect(Array.from(out, (w) => w.toString(16))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  });

  it('draws N(mean, std): moments of 200,000 values, and other seeds give other values', () => {
    const n = 200_000;
    const values = philoxNormal(n, 3, 2, 42);
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    const within = values.filter((v) => Math.abs(v - 3) < 2).length / n;
    expect(Math.abs(mean - 3)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(variance) - 2)).toBeLessThan(0.02);
    // P(|z| < 1) = 0.6827.
    expect(Math.abs(within - 0.6827)).toBeLessThan(0.005);
    // The same z under other mean and std (up to float32 rounding).
    philoxNormal(8, 0, 1, 42).forEach((z, i) => expect(z).toBeCloseTo((values[i] - 3) / 2, 5));
    const other = philoxNormal(8, 3, 2, 43);
    expect(other.some((v, i) => v !== values[i])).toBe(true);
    expect(() => philoxNormal(4, 0, 1, -1)).toThrow('Expected a seed that is an integer in 0..2^53-1, got -1');
  });
});
