import * as tf from '@tensorflow/tfjs';
import { SeededDropout } from './seeded-dropout';

/**
 * Additive N(0, stddev) noise in training mode only, identity at inference (like Keras
 * GaussianNoise), but seeded: tf.layers.gaussianNoise draws from Math.random, which would make
 * training irreproducible. The noise of call c after reseed(stream) is a function of
 * (seed, stream, c) only, so a trainer that reseeds every step per (epoch, step) repeats exactly.
 * x [N, ...] -> [N, ...]; no weights.
 */
export class SeededGaussianNoise extends tf.layers.Layer {
  static className = 'SeededGaussianNoise';
  readonly stddev: number;
  readonly seed: number;
  private stream = 0;
  private calls = 0;

  constructor(args: { stddev: number; seed: number; name?: string }) {
    super({ name: args.name });
    if (!(args.stddev >= 0 && Number.isFinite(args.stddev))) throw new Error(`SeededGaussianNoise.stddev: expected a finite number >= 0, got ${args.stddev}`);
    if (!Number.isInteger(args.seed)) throw new Error(`SeededGaussianNoise.seed: expected an integer, got ${args.seed}`);
    this.stddev = args.stddev;
    this.seed = args.seed;
  }

  /** Starts a new noise stream (e.g. one per training step); calls within it draw in order. */
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
      if (kwargs.training !== true || this.stddev === 0) return tf.clone(x);
      // tf.randomNormal's seeded generator is plain JS, so the draws are the same on every backend.
      const seed = (this.seed * 1_000_003 + this.stream * 7_919 + this.calls++) % Number.MAX_SAFE_INTEGER;
      return tf.add(x, tf.randomNormal(x.shape, 0, this.stddev, 'float32', seed));
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

/** Reseeds every SeededGaussianNoise and SeededDropout layer of `model` (trainers call it once per step). */
export function reseedNoise(model: tf.LayersModel, stream: number): void {
  for (const layer of model.layers) if (layer instanceof SeededGaussianNoise || layer instanceof SeededDropout) layer.reseed(stream);
}
