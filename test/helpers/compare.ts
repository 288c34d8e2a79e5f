import * as tf from '@tensorflow/tfjs';

/** Values drawn from N(mean, std) with tfjs's seeded generator, on the current backend. */
export function seededNormal(shape: number[], seed: number, mean = 0, std = 1): Float32Array {
  const t = tf.randomNormal(shape, mean, std, 'float32', seed);
  // Read outside a tidy: returning dataSync() from tf.tidy makes it walk every element.
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

/** Largest |a - b| over the largest |b| (at least 1e-6): a tolerance that holds for small and large values alike. */
export function relativeDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`relativeDiff: expected equal lengths, got ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
