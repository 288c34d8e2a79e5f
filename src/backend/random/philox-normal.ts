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

/** ln((w + 1) / 2^32) for a uint32 w: the exponent by clz, ln of the mantissa in [1, 2) by the atanh series (error < 1e-12). */
function logUniform(w: number): number {
  const x = w + 1;
  const e = x >= TWO_32 ? 32 : 31 - Math.clz32(x);
  const m = x / 2 ** e;
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  const p =
    t2 * (1 / 3 + t2 * (1 / 5 + t2 * (1 / 7 + t2 * (1 / 9 + t2 * (1 / 11 + t2 * (1 / 13 + t2 * (1 / 15 + t2 * (1 / 17 + t2 * (1 / 19 + t2 * (1 / 21))))))))));
  return 2 * (t + t * p) + (e - 32) * LN2;
}

const LN2 = 0.6931471805599453;
const HALF_PI = 1.5707963267948966;

/** cos and sin of 2 pi w / 2^32 into cs: the quadrant from the top 2 bits, Taylor series on [0, pi/2) (error < 1e-11). */
function cosSin(w: number, cs: Float64Array): void {
  const q = w >>> 30;
  const a = ((w & 0x3fffffff) / 1073741824) * HALF_PI;
  const a2 = a * a;
  const s =
    a *
    (1 +
      a2 *
        (-1 / 6 +
          a2 *
            (1 / 120 +
              a2 * (-1 / 5040 + a2 * (1 / 362880 + a2 * (-1 / 39916800 + a2 * (1 / 6227020800 + a2 * (-1 / 1307674368000 + a2 * (1 / 355687428096000)))))))));
  const c =
    1 +
    a2 *
      (-1 / 2 +
        a2 *
          (1 / 24 +
            a2 *
              (-1 / 720 +
                a2 *
                  (1 / 40320 +
                    a2 * (-1 / 3628800 + a2 * (1 / 479001600 + a2 * (-1 / 87178291200 + a2 * (1 / 20922789888000 + a2 * (-1 / 6402373705728000)))))))));
  // angle = q pi/2 + a.
  cs[0] = q === 0 ? c : q === 1 ? -s : q === 2 ? -c : s;
  cs[1] = q === 0 ? s : q === 1 ? c : q === 2 ? -s : -c;
}

/**
 * Values mean + std * z, z ~ N(0, 1): block b gives values 4b..4b+3, each pair of words (u, w) one
 * Box-Muller pair r cos(2 pi w / 2^32), r sin(...), r = sqrt(-2 ln((u + 1) / 2^32)). The logarithm,
 * sine and cosine are polynomials in plain double arithmetic (no library calls), so the native
 * addon's loop gives the same floats on any machine.
 */
export function philoxNormal(count: number, mean: number, std: number, seed: number): Float32Array {
  const [k0, k1] = philoxKey(seed);
  const out = new Float32Array(count);
  const words = new Uint32Array(4);
  const cs = new Float64Array(2);
  for (let i = 0; i < count; i += 4) {
    philox4x32(i / 4, k0, k1, words);
    for (let pair = 0; pair < 2; pair++) {
      const r = Math.sqrt(-2 * logUniform(words[2 * pair]));
      cosSin(words[2 * pair + 1], cs);
      const j = i + 2 * pair;
      if (j < count) out[j] = mean + std * r * cs[0];
      if (j + 1 < count) out[j + 1] = mean + std * r * cs[1];
    }
  }
  return out;
}
