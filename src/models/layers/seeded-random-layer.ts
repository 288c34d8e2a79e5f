import * as tf from '@tensorflow/tfjs';

/**
 * A training-only random layer (noise, dropout) whose draws repeat across runs: the seed of call c
 * after reseed(stream) is a function of (seed, stream, c) only, so a trainer that reseeds every step
 * per (epoch, step) repeats exactly, on every backend (tfjs's seeded generators are plain JS).
 * Shape-preserving: x [N, ...] -> [N, ...]; no weights.
 */
export abstract class SeededRandomLayer extends tf.layers.Layer {
  readonly seed: number;
  private stream = 0;
  private calls = 0;

  constructor(args: { seed: number; name?: string }, className: string) {
    super({ name: args.name });
    if (!Number.isInteger(args.seed)) throw new Error(`${className}.seed: expected an integer, got ${args.seed}`);
    this.seed = args.seed;
  }

  /** Starts a new stream (e.g. one per training step); calls within it draw in order. */
  reseed(stream: number): void {
    this.stream = stream;
    this.calls = 0;
  }

  /** The seed of the next draw in the current stream. */
  protected nextSeed(): number {
    return (this.seed * 1_000_003 + this.stream * 7_919 + this.calls++) % Number.MAX_SAFE_INTEGER;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }
}

/** Reseeds every seeded noise and dropout layer of `model` (trainers call it once per step). */
export function reseedNoise(model: tf.LayersModel, stream: number): void {
  for (const layer of model.layers) if (layer instanceof SeededRandomLayer) layer.reseed(stream);
}
