import { randomInt } from 'node:crypto';
import { expectIntInRange } from './checks';

/** Largest seed a request may give: 31 bits, so every GraphQL client's Int holds it. */
export const MAX_SEED = 2 ** 31 - 1;

/** A request's seed, 0..MAX_SEED (bad input otherwise); `fallback` when none is given. */
export function checkedSeed(name: string, seed: number | null | undefined, fallback = 0): number {
  const value = seed ?? fallback;
  expectIntInRange(name, value, 0, MAX_SEED);
  return value;
}

/** A seed for a request that gave none: drawn at random, so repeated requests differ. */
export function randomSeed(): number {
  return randomInt(0, MAX_SEED);
}
