import type * as tf from '@tensorflow/tfjs';

/** A layer a user can name in an analysis. */
export interface LayerInfo {
  name: string;
  /** The layer's class, e.g. "Conv2D", "Dense", "LeakyReLU". */
  className: string;
  /** Output shape without the batch axis: [units] or [height, width, channels]. */
  outputShape: number[];
  /** Units of a dense output, feature maps (channels) of a conv output. */
  neurons: number;
}

/** Layers that are the identity at inference: dropout and noise act in training only. */
export const IDENTITY_AT_INFERENCE: ReadonlySet<string> = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'SeededDropout',
  'SeededGaussianNoise',
]);

/** Layers that carry no features of their own: they only move, reshape or perturb their input. */
const NOT_FEATURES = new Set(['InputLayer', 'Flatten', 'Reshape', ...IDENTITY_AT_INFERENCE]);

/** A served generator has its batchnorms folded into the layer before (foldBatchNorm), so they cannot be named. */
const NOT_GENERATOR = new Set(['InputLayer', 'BatchNormalization']);

/**
 * The layers of `model` an analysis can read, in model order. 'features' (a discriminator or
 * encoder): every layer but inputs, reshapes and dropout/noise layers. 'generator': every layer but
 * inputs and batchnorms. Layers whose output is not [units] or [h, w, c] (or has several outputs)
 * are left out: they have no neurons in the sense of neuronActivations.
 */
export function describeLayers(model: tf.LayersModel, options: { role: 'features' | 'generator' }): LayerInfo[] {
  const excluded = options.role === 'features' ? NOT_FEATURES : NOT_GENERATOR;
  const infos: LayerInfo[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (excluded.has(className)) continue;
    const shape = layer.outputShape;
    // A single output is [null, ...dims]; several outputs are an array of such arrays.
    if (!Array.isArray(shape) || shape.some((d) => Array.isArray(d))) continue;
    const dims = (shape as (number | null)[]).slice(1);
    if (!dims.every((d): d is number => typeof d === 'number' && d > 0)) continue;
    if (dims.length !== 1 && dims.length !== 3) continue;
    infos.push({ name: layer.name, className, outputShape: dims, neurons: neuronCount(dims) });
  }
  return infos;
}

/** Neurons of a layer whose output (without the batch axis) has this shape: units, or channels of a feature map. */
export function neuronCount(outputShape: readonly number[]): number {
  if (outputShape.length === 1 || outputShape.length === 3) return outputShape[outputShape.length - 1];
  throw new Error(`neuronCount: expected an output shape [units] or [h, w, c], got [${outputShape.join(', ')}]`);
}
