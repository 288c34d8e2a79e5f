import * as tf from '@tensorflow/tfjs';

/** Settings of a virtual batch normalization layer (Salimans et al. 2016, sec 3.4). */
export interface VirtualBatchNormConfig {
  /** R: the first R rows of every batch are the reference batch, fixed once at the start of training. */
  referenceSize: number;
  /** Added to the variance; 1e-5 as in the DCGAN's batchnorm. */
  epsilon?: number;
}

/**
 * Virtual batch normalization as a layer: each batch carries the reference batch in its first R
 * rows (see withReference). Reference rows are normalised with the reference statistics; every
 * other row i with the statistics of the reference plus itself, weight 1/(R+1) (the paper's
 * "reference batch ... plus the example itself"), so its output depends on no other example of
 * its batch. Statistics are per channel (last axis), over the batch and any spatial axes.
 * x [N, ..., F] -> [N, ..., F], N > R; gamma and beta [F] as in batchnorm.
 */
export class VirtualBatchNormalization extends tf.layers.Layer {
  static className = 'VirtualBatchNormalization';
  readonly referenceSize: number;
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: VirtualBatchNormConfig & { name?: string; trainable?: boolean }) {
    super({ name: args.name, trainable: args.trainable });
    if (!Number.isInteger(args.referenceSize) || args.referenceSize < 1) {
      throw new Error(`VirtualBatchNorm.referenceSize: expected a positive integer, got ${args.referenceSize}`);
    }
    this.referenceSize = args.referenceSize;
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.epsilon > 0)) throw new Error(`VirtualBatchNorm.epsilon: expected > 0, got ${this.epsilon}`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels === null || shape.length < 2) throw new Error(`VirtualBatchNorm: expected input [batch, ..., channels], got [${shape}]`);
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (this.gamma === null || this.beta === null) throw new Error('VirtualBatchNorm: called before build');
      const r = this.referenceSize;
      const n = x.shape[0];
      if (n <= r) throw new Error(`VirtualBatchNorm: expected more than ${r} rows (the reference batch first), got ${n}`);
      const rank = x.rank;
      const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 1);
      const reference = tf.slice(x, 0, r);
      const rest = tf.slice(x, r, n - r);
      // Reference statistics [F]: over the reference rows and any spatial axes.
      const refMean = tf.mean(reference, [0, ...spatial]);
      const refMeanSq = tf.mean(tf.square(reference), [0, ...spatial]);
      // Each other example's own statistics [N-R, 1.., F] (itself alone when there are no spatial axes).
      const ownMean = spatial.length > 0 ? tf.mean(rest, spatial, true) : rest;
      const ownMeanSq = spatial.length > 0 ? tf.mean(tf.square(rest), spatial, true) : tf.square(rest);
      const gamma = this.gamma.read();
      const beta = this.beta.read();
      const w = 1 / (r + 1);
      const mean = tf.add(tf.mul(refMean, 1 - w), tf.mul(ownMean, w));
      const meanSq = tf.add(tf.mul(refMeanSq, 1 - w), tf.mul(ownMeanSq, w));
      const normalise = (t: tf.Tensor, m: tf.Tensor, sq: tf.Tensor): tf.Tensor => {
        const variance = tf.relu(tf.sub(sq, tf.square(m)));
        return tf.add(tf.mul(tf.div(tf.sub(t, m), tf.sqrt(tf.add(variance, this.epsilon))), gamma), beta);
      };
      return tf.concat([normalise(reference, refMean, refMeanSq), normalise(rest, mean, meanSq)], 0);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { referenceSize: this.referenceSize, epsilon: this.epsilon, ...super.getConfig() };
  }
}
tf.serialization.registerClass(VirtualBatchNormalization);

/** Layer factory in the style of tf.layers.*. */
export function virtualBatchNormalization(args: VirtualBatchNormConfig & { name?: string }): VirtualBatchNormalization {
  return new VirtualBatchNormalization(args);
}

/** The batch a VBN model sees: the fixed reference rows first, then the examples. */
export function withReference<T extends tf.Tensor>(reference: T, batch: T): T {
  return tf.concat<T>([reference, batch], 0);
}

/** Drops the reference rows from a VBN model's output. */
export function withoutReference<T extends tf.Tensor>(output: T, referenceSize: number): T {
  return tf.slice<tf.Rank, T>(output, referenceSize, output.shape[0] - referenceSize);
}
