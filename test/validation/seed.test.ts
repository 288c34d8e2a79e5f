import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/error-code';
import { checkedSeed, MAX_SEED, randomSeed } from '../../src/validation/seed';

describe('checkedSeed', () => {
  it('accepts 0..MAX_SEED and falls back when no seed is given', () => {
    expect(MAX_SEED).toBe(2147483647);
    expect(checkedSeed('seed', 0)).toBe(0);
    expect(checkedSeed('seed', MAX_SEED)).toBe(MAX_SEED);
    expect(checkedSeed('seed', undefined)).toBe(0);
    expect(checkedSeed('checkSeed', null, 7)).toBe(7);
  });

  it('refuses other values as bad input naming the field', () => {
    expect(() => checkedSeed('seed', -1)).toThrow(`seed: expected an integer in 0..${MAX_SEED}, got -1`);
    expect(() => checkedSeed('checkSeed', 1.5)).toThrow(`checkSeed: expected an integer in 0..${MAX_SEED}, got 1.5`);
    expect(() => checkedSeed('seed', undefined, MAX_SEED + 1)).toThrow(`got ${MAX_SEED + 1}`);
    try {
      checkedSeed('seed', -1);
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe(ErrorCode.BAD_USER_INPUT);
    }
  });

  it('draws random seeds inside the range', () => {
    const seeds = Array.from({ length: 20 }, randomSeed);
    for (const s of seeds) expect(checkedSeed('seed', s)).toBe(s);
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });
});
