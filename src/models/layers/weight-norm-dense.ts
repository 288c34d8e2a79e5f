import * as tf from '@tensorflow/tfjs';
import { copyLayerWeights } from '../copy-weights';
import { modelFromTopology, topologyOf } from '../topology';
import { reseedNoise } from './seeded-random-layer';

export type WeightNormActivation = 'relu' | 'linear' | 'tanh';
const ACTIVATIONS: readonly WeightNormActivation[] = ['relu', 'linear', 'tanh'];

/** Settings of a weight-normalised dense layer (Salimans & Kingma 2016, as in Salimans et al. 2016's MNIST code). */
export interface WeightNormDenseConfig {
  units: number;
  /** 'relu' for hidden layers, 'linear' for logits, 'tanh' for a generator's pixels. */
  activation: WeightNormActivation;
  /** Train the per-unit scale g (the paper's code: only on the logit layer); otherwise g stays at its data-dependent init. */
  trainScale: boolean;
  /** Stddev of v's N(0, std) initialiser; 0.05 as in the paper's code. */
  stddev?: number;
  seed?: number;
}

/**
 * y = act(x W + b) with W = v * g / ||v|| (the norm per output unit, over the input axis), so each
 * unit's weight vector has length g whatever v becomes: the feature scale of D cannot run away.
 * g starts at 1 and b at 0; initWeightNorm sets both from data (mean 0, variance 1 pre-activations).
 * x [N, in] -> [N, units]; weights v [in, units], g [units], b [units].
 */
export class WeightNormDense extends tf.layers.Layer {
  static className = 'WeightNormDense';
  readonly units: number;
  readonly activation: WeightNormActivation;
  readonly trainScale: boolean;
  readonly stddev: number;
  readonly seed: number | undefined;
  private v: tf.LayerVariable | null = null;
  private g: tf.LayerVariable | null = null;
  private b: tf.LayerVariable | null = null;

  constructor(args: WeightNormDenseConfig & { name?: string }) {
    super({ name: args.name });
    if (!Number.isInteger(args.units) || args.units < 1) throw new Error(`WeightNormDense.units: expected a positive integer, got ${args.units}`);
    if (!ACTIVATIONS.includes(args.activation)) throw new Error(`WeightNormDense.activation: expected one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(args.activation)}`);
    this.units = args.units;
    this.activation = args.activation;
    this.trainScale = args.trainScale;
    this.stddev = args.stddev ?? 0.05;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputs = shape[shape.length - 1];
    if (shape.length !== 2 || inputs === null) throw new Error(`WeightNormDense: expected input [batch, features], got [${shape}]`);
    this.v = this.addWeight('v', [inputs, this.units], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: this.stddev, seed: this.seed }));
    this.g = this.addWeight('g', [this.units], 'float32', tf.initializers.ones(), undefined, this.trainScale);
    this.b = this.addWeight('b', [this.units], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], this.units];
  }

  /** The effective kernel W = v * g / ||v|| [in, units] (the caller disposes it). */
  kernel(): tf.Tensor2D {
    if (this.v === null || this.g === null) throw new Error('WeightNormDense: used before build');
    const v = this.v.read();
    const g = this.g.read();
    return tf.tidy(() => tf.mul<tf.Tensor2D>(v, tf.div(g, tf.sqrt(tf.add(tf.sum(tf.square(v), 0), 1e-12)))));
  }

  /** The bias b [units] (the layer's own variable: do not dispose it). */
  bias(): tf.Tensor1D {
    if (this.b === null) throw new Error('WeightNormDense: used before build');
    return this.b.read() as tf.Tensor1D;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      if (this.b === null) throw new Error('WeightNormDense: called before build');
      const y = tf.add(tf.matMul(x, this.kernel()), this.b.read());
      return this.activation === 'relu' ? tf.relu(y) : this.activation === 'tanh' ? tf.tanh(y) : y;
    });
  }

  /** Sets g and b so that the pre-activations of `x` [N, in] have mean 0 and variance 1 per unit (data-dependent init). */
  initFromData(x: tf.Tensor2D): void {
    if (this.v === null || this.g === null || this.b === null) throw new Error('WeightNormDense: initFromData before build');
    const v = this.v.read();
    const [g, b] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const direction = tf.div(v, tf.sqrt(tf.add(tf.sum(tf.square(v), 0), 1e-12)));
      const { mean, variance } = tf.moments(tf.matMul(x, direction), 0);
      const scale = tf.div(1, tf.sqrt(tf.add(variance, 1e-6)));
      return [scale, tf.neg(tf.mul(mean, scale))];
    });
    this.g.write(g);
    this.b.write(b);
    // write() shares the tensors' data; the variables keep their own references.
    tf.dispose([g, b]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { units: this.units, activation: this.activation, trainScale: this.trainScale, stddev: this.stddev };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...config, ...super.getConfig() };
  }
}
tf.serialization.registerClass(WeightNormDense);

export function weightNormDense(args: WeightNormDenseConfig & { name?: string }): WeightNormDense {
  return new WeightNormDense(args);
}

/** The noise stream of a data-dependent init with noise: past any (epoch * 100,000 + step) a trainer uses. */
export const INIT_NOISE_STREAM = 2 ** 31 - 1;

/**
 * Data-dependent initialisation of every WeightNormDense layer of `model`, first to last: each
 * layer's g and b are set from its input on `batch` as computed with the layers before it already
 * initialised. With `noise`, the model's seeded noise layers are on, as in the paper's code
 * (`init_param` runs D with deterministic=False), so each unit's pre-activation has variance 1 with
 * the training-time noise included; every pass draws the same noise (one stream, reseeded per pass),
 * as the single init pass of the paper's code does. Without it, inference mode.
 */
export function initWeightNorm(model: tf.LayersModel, batch: tf.Tensor, options: { noise?: boolean } = {}): void {
  const training = options.noise === true;
  for (const layer of model.layers) {
    if (!(layer instanceof WeightNormDense)) continue;
    if (training) reseedNoise(model, INIT_NOISE_STREAM);
    const upTo = tf.model({ inputs: model.inputs, outputs: layer.input });
    const input = tf.tidy(() => upTo.apply(batch, { training }) as tf.Tensor2D);
    layer.initFromData(input);
    input.dispose();
  }
}

/**
 * A copy of `model` in which every WeightNormDense is a plain Dense with kernel v * g / ||v|| and bias b:
 * the same outputs from standard layers only, for serving. Returns null when `model` has none.
 * The copy owns its weights; `model` is left untouched.
 */
export async function withPlainDense(model: tf.LayersModel): Promise<tf.LayersModel | null> {
  const normed = model.layers.filter((l): l is WeightNormDense => l instanceof WeightNormDense);
  if (normed.length === 0) return null;
  const topology = topologyOf(model, 'withPlainDense');
  const byName = new Map(normed.map((l) => [l.name, l]));
  for (const layer of topology.config.layers) {
    const source = byName.get(layer.name);
    if (source === undefined) continue;
    layer.class_name = 'Dense';
    layer.config = { name: layer.name, trainable: true, units: source.units, activation: source.activation, use_bias: true };
  }
  const copy = await modelFromTopology(topology);
  for (const layer of copy.layers) {
    const source = byName.get(layer.name);
    if (source === undefined) {
      copyLayerWeights(layer, model.getLayer(layer.name));
      continue;
    }
    const kernel = source.kernel();
    layer.setWeights([kernel, source.bias()]);
    kernel.dispose();
  }
  return copy;
}
