import type { Prng } from '../data/prng';

/**
 * Latent-space arithmetic of Radford et al. 2015, section 6. All math runs in float64 and is
 * rounded to float32 once at the end, so results are exact to float32 for hand-checkable cases.
 */

export type InterpolationMethod = 'LINEAR' | 'SLERP';

function toFloat32(values: Float64Array): Float32Array {
  return Float32Array.from(values);
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`expected vectors of the same length, got ${a.length} and ${b.length}`);
}

/** (1 - t) a + t b. */
export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  checkSameLength(a, b);
  return toFloat32(Float64Array.from(a, (v, i) => (1 - t) * v + t * b[i]));
}

/**
 * Spherical interpolation: moves along the great circle between a and b (Shoemake 1985), the walk
 * White (2016) recommends for Gaussian latents, whose mass lies near a sphere: a linear midpoint is
 * shorter than typical z and leaves the region the generator was trained on. Falls back to lerp
 * when a and b are (anti)parallel or zero. t = 0 and t = 1 return a and b exactly.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  checkSameLength(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return lerp(a, b, t);
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
  const omega = Math.acos(cos);
  const sinOmega = Math.sin(omega);
  if (sinOmega < 1e-6) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * omega) / sinOmega;
  const wb = Math.sin(t * omega) / sinOmega;
  return toFloat32(Float64Array.from(a, (v, i) => wa * v + wb * b[i]));
}

/** `steps` points from a to b inclusive, evenly spaced in t. */
export function interpolate(a: Float32Array, b: Float32Array, steps: number, method: InterpolationMethod): Float32Array[] {
  if (!Number.isInteger(steps) || steps < 2) throw new Error(`expected steps >= 2, got ${steps}`);
  const walk = method === 'SLERP' ? slerp : lerp;
  return Array.from({ length: steps }, (_, i) => walk(a, b, i / (steps - 1)));
}

/** Element-wise mean of one or more vectors (a concept vector: the paper averages 3 exemplars). */
export function mean(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new Error('expected at least one vector, got 0');
  const sum = new Float64Array(vectors[0].length);
  for (const v of vectors) {
    checkSameLength(v, sum);
    v.forEach((x, i) => (sum[i] += x));
  }
  return toFloat32(sum.map((x) => x / vectors.length));
}

/** sum_i coefficients[i] * vectors[i], e.g. A - B + C with coefficients [1, -1, 1]. */
export function combine(coefficients: readonly number[], vectors: readonly Float32Array[]): Float32Array {
  if (coefficients.length !== vectors.length || vectors.length === 0) {
    throw new Error(`expected one coefficient per vector, got ${coefficients.length} and ${vectors.length}`);
  }
  const out = new Float64Array(vectors[0].length);
  vectors.forEach((v, k) => {
    checkSameLength(v, out);
    v.forEach((x, i) => (out[i] += coefficients[k] * x));
  });
  return toFloat32(out);
}

/** `center` plus independent uniform noise in [-scale, scale] on every coordinate. */
export function uniformNeighbour(center: Float32Array, scale: number, prng: Prng): Float32Array {
  return toFloat32(Float64Array.from(center, (v) => v + (2 * prng.next() - 1) * scale));
}
