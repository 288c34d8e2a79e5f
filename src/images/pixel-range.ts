import type * as tf from '@tensorflow/tfjs';

/** A pixel range [low, high] with low < high. */
export type PixelRange = readonly [number, number];

/** What a PNG byte holds. */
export const BYTE_RANGE: PixelRange = [0, 255];
/** [0, 1]: the mnist package's pixels, and the range Parzen windows are fitted in (Goodfellow et al. 2014). */
export const UNIT_RANGE: PixelRange = [0, 1];
/** [-1, 1]: ganql's datasets as loaded, and its generators' tanh output. */
export const SIGNED_RANGE: PixelRange = [-1, 1];

function same(a: PixelRange, b: PixelRange): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/**
 * The linear map of pixel values from `from` onto `to`, through [0, 1]: v -> ((v - from.low) /
 * width(from)) * width(to) + to.low, so the ends of `from` land exactly on the ends of `to`.
 * Equal ranges give the identity (no rounding at all).
 */
export function pixelMapper(from: PixelRange, to: PixelRange): (v: number) => number {
  if (same(from, to)) return (v) => v;
  const [f0, f1] = from;
  const [t0, t1] = to;
  const fw = f1 - f0;
  const tw = t1 - t0;
  return (v) => ((v - f0) / fw) * tw + t0;
}

/** One value mapped from `from` onto `to` (see pixelMapper). */
export function mapPixel(v: number, from: PixelRange, to: PixelRange): number {
  return pixelMapper(from, to)(v);
}

/** `values` mapped from `from` onto `to` (see pixelMapper), written into `out`: a new array unless given. */
export function mapPixels(values: ArrayLike<number>, from: PixelRange, to: PixelRange, out = new Float32Array(values.length)): Float32Array {
  if (out.length !== values.length) throw new Error(`mapPixels: expected an output of ${values.length} values, got ${out.length}`);
  const map = pixelMapper(from, to);
  for (let i = 0; i < values.length; i++) out[i] = map(values[i]);
  return out;
}

/**
 * A batch tensor mapped from `from` onto `to`: (x - from.low) * scale + to.low, one multiply per
 * value instead of mapPixel's divide and multiply (float32 results may differ from it by rounding).
 * Equal ranges return `x` itself. Call it inside tf.tidy.
 */
export function mapPixelTensor<T extends tf.Tensor>(x: T, from: PixelRange, to: PixelRange): T {
  if (same(from, to)) return x;
  const scale = (to[1] - to[0]) / (from[1] - from[0]);
  return x.sub(from[0]).mul(scale).add<T>(to[0]);
}
