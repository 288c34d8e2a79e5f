/**
 * Seeded Gaussian noise from the counter-based Philox4x32-10 generator (Salmon et al. 2011, as in
 * Random123, cuRAND and PyTorch's CUDA generator) with the Box-Muller transform. Value i depends only
 * on (seed, i), so the native addon computes the same stream in parallel (native/src/random.cc) and
 * this file is its reference and fallback. tfjs's seeded randomNormal spent ~100 ns a value in JS.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_32 = 4294967296;

/** High 32 bits of the 64-bit product of two uint32 values. */
function mulhi(a: number, b: number): number {
  const a1 = a >>> 16;
  const a0 = a & 0xffff;
  const b1 = b >>> 16;
  const b0 = b & 0xffff;
  const m1 = a1 * b0 + ((a0 * b0) >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536)) >>> 0;
}

/** The four uint32 words of block `counter` (a 53-bit integer) under key (k0, k1), into out. */
export function philox4x32(counter: number, k0: number, k1: number, out: Uint32Array): void {
  let c0 = counter >>> 0;
  let c1 = Math.floor(counter / TWO_32) >>> 0;
  let c2 = 0;
  let c3 = 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ key0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ key1) >>> 0;
    c3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** The seed (a non-negative integer below 2^53) as Philox's two key words. */
export function philoxKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`Expected a seed that is an integer in 0..2^53-1, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / TWO_32) >>> 0];
}

/**
 * Values mean + std * z, z ~ N(0, 1): block b gives values 4b..4b+3, each pair of words (u, w) one
 * Box-Muller pair r cos(2 pi w / 2^32), r sin(...), r = sqrt(-2 ln((u + 1) / 2^32)), in double
 * precision rounded once to float32.
 */
export function philoxNormal(count: number, mean: number, std: number, seed: number): Float32Array {
  const [k0, k1] = philoxKey(seed);
  const out = new Float32Array(count);
  const words = new Uint32Array(4);
  for (let i = 0; i < count; i += 4) {
    philox4x32(i / 4, k0, k1, words);
    for (let pair = 0; pair < 2; pair++) {
      const r = Math.sqrt(-2 * Math.log((words[2 * pair] + 1) / TWO_32));
      const angle = (2 * Math.PI * words[2 * pair + 1]) / TWO_32;
      const j = i + 2 * pair;
      if (j < count) out[j] = mean + std * r * Math.cos(angle);
      if (j + 1 < count) out[j + 1] = mean + std * r * Math.sin(angle);
    }
  }
  return out;
}
