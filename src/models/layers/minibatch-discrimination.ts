import * as tf from '@tensorflow/tfjs';

/** Settings of a minibatch discrimination layer (Salimans et al. 2016, sec 3.2). */
export interface MinibatchDiscriminationConfig {
  /** B: number of kernels, i.e. closeness features appended per example. */
  kernels: number;
  /** C: rows of each kernel's projection M_i,b. */
  kernelDim: number;
  /** Standard deviation of T's N(0, std) initialiser; 0.05 keeps the L1 distances O(1) at start. */
  stddev?: number;
  /** Seed of T's initialiser. */
  seed?: number;
}

export function checkMinibatchDiscrimination(c: { kernels: number; kernelDim: number }): void {
  for (const key of ['kernels', 'kernelDim'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new Error(`minibatchDiscrimination.${key}: expected a positive integer, got ${c[key]}`);
  }
}

/**
 * x [n, A] -> concat(x, o(x)) [n, A + B]. T [A, B*C] maps each x_i to M_i [B, C];
 * c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1) and o(x_i)_b = sum_j c_b(x_i, x_j).
 * The sum runs over every j in the batch, the example itself included (as the paper writes
 * it), so each o(x_i)_b is in (1, n] and n identical examples give o = n.
 */
export class MinibatchDiscrimination extends tf.layers.Layer {
  static className = 'MinibatchDiscrimination';
  readonly kernels: number;
  readonly kernelDim: number;
  readonly stddev: number;
  readonly seed: number | undefined;
  private t: tf.LayerVariable | null = null;

  constructor(args: MinibatchDiscriminationConfig & { name?: string; trainable?: boolean }) {
    super({ name: args.name, trainable: args.trainable });
    checkMinibatchDiscrimination(args);
    this.kernels = args.kernels;
    this.kernelDim = args.kernelDim;
    this.stddev = args.stddev ?? 0.05;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1];
    if (shape.length !== 2 || features === null) throw new Error(`MinibatchDiscrimination: expected input [batch, features], got [${shape}]`);
    this.t = this.addWeight(
      'T',
      [features, this.kernels * this.kernelDim],
      'float32',
      tf.initializers.randomNormal({ mean: 0, stddev: this.stddev, seed: this.seed }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], (shape[1] ?? 0) + this.kernels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      if (this.t === null) throw new Error('MinibatchDiscrimination: called before build');
      const n = x.shape[0];
      const m = tf.reshape(tf.matMul(x, this.t.read() as tf.Tensor2D), [n, 1, this.kernels, this.kernelDim]);
      // [n, 1, B, C] - [1, n, B, C] -> L1 over C -> [n, n, B]
      const l1 = tf.sum(tf.abs(tf.sub(m, tf.reshape(m, [1, n, this.kernels, this.kernelDim]))), 3);
      const o = tf.sum(tf.exp(tf.neg(l1)), 1);
      // -> [n, B]
      return tf.concat([x, o], 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { kernels: this.kernels, kernelDim: this.kernelDim, stddev: this.stddev };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...config, ...super.getConfig() };
  }
}
tf.serialization.registerClass(MinibatchDiscrimination);

/** Layer factory in the style of tf.layers.*. */
export function minibatchDiscrimination(args: MinibatchDiscriminationConfig & { name?: string }): MinibatchDiscrimination {
  return new MinibatchDiscrimination(args);
}
