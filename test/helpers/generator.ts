import * as tf from '@tensorflow/tfjs';
import { buildGenerator, type DcganConfig } from '../../src/models/dcgan';

/**
 * Gives every BatchNormalization of `model` statistics of the spread a trained net has (a fresh one
 * has mean 0, variance 1, gamma ~1, beta 0, which would hide a fold that ignores them). Seeded.
 */
export function randomizeBatchNorm(model: tf.LayersModel, seed = 7): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const name = w.originalName;
      s += 1;
      if (name.endsWith('/moving_variance')) return tf.randomUniform(shape, 0.2, 3, 'float32', s);
      if (name.endsWith('/gamma')) return tf.randomNormal(shape, 1, 0.3, 'float32', s);
      return tf.randomNormal(shape, 0, 0.5, 'float32', s);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/** A DCGAN generator with seeded weights and non-trivial batchnorm statistics. */
export function buildTestGenerator(config: Partial<DcganConfig> = {}): tf.LayersModel {
  const generator = buildGenerator(config);
  randomizeBatchNorm(generator);
  return generator;
}

/** Seeded N(0, 1) latents, n rows of `size` values. */
export function seededLatents(n: number, size: number, seed = 1): Float32Array {
  const z = tf.randomNormal([n, size], 0, 1, 'float32', seed);
  const values = z.dataSync() as Float32Array;
  z.dispose();
  return values;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: expected equal lengths, got ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
