import * as tf from '@tensorflow/tfjs';
import { SeededRandomLayer } from './seeded-random-layer';

/**
 * Inverted dropout in training mode only (identity at inference), like tf.layers.dropout, but with a
 * mask that changes every call and still repeats across runs: tf.layers.dropout with a `seed` draws
 * the same mask on every call (one fixed mask for the whole training), and without one it draws from
 * Math.random. Seeded per (seed, stream, call) as SeededRandomLayer says; trainers reseed once per step
 * (reseedNoise). x [N, ...] -> [N, ...]; no weights.
 */
export class SeededDropout extends SeededRandomLayer {
  static className = 'SeededDropout';
  readonly rate: number;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super(args, 'SeededDropout');
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`SeededDropout.rate: expected a number in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
      // Keep each unit with probability 1 - rate and scale it by 1 / (1 - rate), so the expected output is x.
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', this.nextSeed()), this.rate), 'float32');
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { rate: this.rate, seed: this.seed, ...super.getConfig() };
  }
}
tf.serialization.registerClass(SeededDropout);

export function seededDropout(args: { rate: number; seed: number; name?: string }): SeededDropout {
  return new SeededDropout(args);
}
