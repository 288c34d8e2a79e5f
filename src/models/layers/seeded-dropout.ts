import * as tf from '@tensorflow/tfjs';

/**
 * Inverted dropout in training mode only (identity at inference), like tf.layers.dropout, but with a
 * mask that changes every call and still repeats across runs: tf.layers.dropout with a `seed` draws
 * the same mask on every call (one fixed mask for the whole training), and without one it draws from
 * Math.random. The mask of call c after reseed(stream) is a function of (seed, stream, c) only, as in
 * SeededGaussianNoise; trainers reseed once per step (reseedNoise). x [N, ...] -> [N, ...]; no weights.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private stream = 0;
  private calls = 0;

  constructor(args: { rate: number; seed: number; name?: string }) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`SeededDropout.rate: expected a number in [0, 1), got ${args.rate}`);
    if (!Number.isInteger(args.seed)) throw new Error(`SeededDropout.seed: expected an integer, got ${args.seed}`);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  /** Starts a new mask stream (e.g. one per training step); calls within it draw in order. */
  reseed(stream: number): void {
    this.stream = stream;
    this.calls = 0;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
      const seed = (this.seed * 1_000_003 + this.stream * 7_919 + this.calls++) % Number.MAX_SAFE_INTEGER;
      // Keep each unit with probability 1 - rate and scale it by 1 / (1 - rate), so the expected output is x.
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), this.rate), 'float32');
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
