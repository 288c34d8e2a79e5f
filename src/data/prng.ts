/**
 * mulberry32: a tiny, fast 32-bit seeded PRNG. Not cryptographic; good enough for
 * shuffles and noise, and identical on every platform for a given seed.
 */
export interface Prng {
  // Function properties, not methods: each may be passed on detached (Array.from({ length }, prng.next)).
  /** Uniform float in [0, 1). */
  next: () => number;
  /** Uniform integer in [0, n). */
  nextInt: (n: number) => number;
  /** Standard normal sample (Box-Muller). */
  nextNormal: () => number;
}

export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new Error(`Expected an integer seed, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    nextInt: (n) => Math.floor(next() * n),
    nextNormal: () => {
      // 1 - u keeps log() away from 0.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** Fisher-Yates shuffle of [0, n) driven by `prng`. */
export function shuffledIndices(n: number, prng: Prng): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}
