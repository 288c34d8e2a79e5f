import * as tf from '@tensorflow/tfjs';
import { seededPhiloxNormal } from '../../backend/kernels/philox-normal';
import { SeededRandomLayer } from './seeded-random-layer';

/**
 * Additive N(0, stddev) noise in training mode only, identity at inference (like Keras
 * GaussianNoise), but seeded: tf.layers.gaussianNoise draws from Math.random, which would make
 * training irreproducible. The noise is the Philox stream (seededPhiloxNormal): native with the
 * addon, the same values in JS without it. The noise of call c after reseed(stream) is a function of
 * (seed, stream, c) only, so a trainer that reseeds every step per (epoch, step) repeats exactly.
 * x [N, ...] -> [N, ...]; no weights.
 */
export class SeededGaussianNoise extends SeededRandomLayer {
  static className = 'SeededGaussianNoise';
  readonly stddev: number;

  constructor(args: { stddev: number; seed: number; name?: string }) {
    super(args, 'SeededGaussianNoise');
    if (!(args.stddev >= 0 && Number.isFinite(args.stddev))) throw new Error(`SeededGaussianNoise.stddev: expected a finite number >= 0, got ${args.stddev}`);
    this.stddev = args.stddev;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training !== true || this.stddev === 0) return tf.clone(x);
      return tf.add(x, seededPhiloxNormal(x.shape, 0, this.stddev, this.nextSeed()));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { stddev: this.stddev, seed: this.seed, ...super.getConfig() };
  }
}
tf.serialization.registerClass(SeededGaussianNoise);

export function seededGaussianNoise(args: { stddev: number; seed: number; name?: string }): SeededGaussianNoise {
  return new SeededGaussianNoise(args);
}
