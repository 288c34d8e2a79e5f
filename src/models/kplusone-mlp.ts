import * as tf from '@tensorflow/tfjs';
import { seededGaussianNoise } from './layers/seeded-gaussian-noise';
import { WeightNormDense, weightNormDense } from './layers/weight-norm-dense';
import { virtualBatchNormalization } from './layers/virtual-batch-norm';

/**
 * The semi-supervised MNIST models of Salimans et al. 2016 sec 5 (their code's
 * mnist_feature_matching.py), sized for 28x28 grayscale in [-1, 1]:
 * D: image -> flatten -> [0, 1] -> noise -> 1000 -> noise -> 500 -> noise -> 250 -> noise -> 250 -> noise -> 250 -> noise -> K logits,
 *    ReLU hidden layers, Gaussian noise (training only) on the input (sigma 0.3 on [0, 1] pixels, as their code's)
 *    and after each hidden layer (sigma 0.5). The (K+1)th "generated" logit is fixed at 0 (src/training/k-plus-one.ts).
 * D's dense layers are weight-normalised as in their code (layers/weight-norm-dense.ts): hidden layers with a
 * fixed per-unit scale from a data-dependent init (initWeightNorm), the logit layer with a trained scale.
 * G: z -> 500 -> 500 -> 784 -> [28, 28, 1], each hidden layer dense -> batchnorm -> softplus, then a
 * weight-normalised output layer y and tanh(y / 2) (their sigmoid(y) for [0, 1] pixels, ours for [-1, 1]).
 */
export interface KPlusOneMlpConfig {
  /** Length of z; 100 as in the paper. */
  latentSize: number;
  /** Output side in pixels; 28 for MNIST. */
  imageSize: number;
  /** Classes K (logits of D); 10 for digits. */
  classes: number;
  /** Units of D's hidden layers; the paper's 1000-500-250-250-250. */
  discriminatorUnits: number[];
  /** Units of G's hidden layers; the paper's 500-500. */
  generatorUnits: number[];
  /** Stddev of the noise on D's input, on the [0, 1] pixels D sees; 0.3 as in the paper's code. */
  inputNoise: number;
  /** Stddev of the noise after each of D's hidden layers; 0.5 as in the paper's code. */
  hiddenNoise: number;
  /** Seed of the weight initialisers and of the noise layers; each layer offsets it. */
  seed: number;
}

export const defaultKPlusOneMlpConfig: Readonly<KPlusOneMlpConfig> = Object.freeze({
  latentSize: 100,
  imageSize: 28,
  classes: 10,
  discriminatorUnits: [1000, 500, 250, 250, 250],
  generatorUnits: [500, 500],
  inputNoise: 0.3,
  hiddenNoise: 0.5,
  seed: 42,
});

/** Checks a (possibly partial) config and fills defaults; errors say "expected X, got Y". */
export function resolveKPlusOneMlpConfig(partial: Partial<KPlusOneMlpConfig> = {}): KPlusOneMlpConfig {
  const config: KPlusOneMlpConfig = { ...defaultKPlusOneMlpConfig, ...partial };
  for (const key of ['latentSize', 'imageSize'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`KPlusOneMlpConfig.${key}: expected a positive integer, got ${config[key]}`);
  }
  if (!Number.isInteger(config.classes) || config.classes < 2) throw new Error(`KPlusOneMlpConfig.classes: expected an integer >= 2, got ${config.classes}`);
  for (const key of ['discriminatorUnits', 'generatorUnits'] as const) {
    const units = config[key];
    if (!Array.isArray(units) || units.length === 0 || !units.every((u) => Number.isInteger(u) && u > 0)) {
      throw new Error(`KPlusOneMlpConfig.${key}: expected a non-empty list of positive integers, got ${JSON.stringify(units)}`);
    }
  }
  for (const key of ['inputNoise', 'hiddenNoise'] as const) {
    if (!(config[key] >= 0 && Number.isFinite(config[key]))) throw new Error(`KPlusOneMlpConfig.${key}: expected a finite number >= 0, got ${config[key]}`);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`KPlusOneMlpConfig.seed: expected an integer, got ${config.seed}`);
  return config;
}

function init(config: KPlusOneMlpConfig, offset: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: config.seed * 1000 + offset });
}

/** The name of D's i-th hidden layer (1-based); the last one is the paper's feature-matching layer. */
export function kPlusOneHiddenLayer(i: number): string {
  return `d_hidden${i}`;
}

/** The feature-matching layer of the paper: the last hidden layer, before its noise. */
export function defaultKPlusOneFeatureLayer(partial: Partial<KPlusOneMlpConfig> = {}): string {
  return kPlusOneHiddenLayer(resolveKPlusOneMlpConfig(partial).discriminatorUnits.length);
}

/** Stddev of the weight-normalised D layers' direction parameters: the paper's code's Normal(0.1). */
const D_THETA_STDDEV = 0.1;

/**
 * image [size, size, 1] -> K logits. With `served` true: the classifier that is served, with plain
 * dense layers of the same names and no noise layers (the noise is identity at inference anyway);
 * kPlusOneClassifierOf fills it from a trained D.
 */
export function buildKPlusOneDiscriminator(partial: Partial<KPlusOneMlpConfig> = {}, options: { served?: boolean } = {}): tf.LayersModel {
  const config = resolveKPlusOneMlpConfig(partial);
  const noise = !(options.served ?? false);
  const dense = (name: string, units: number, activation: 'relu' | 'linear', offset: number, trainScale: boolean): tf.layers.Layer =>
    noise
      ? // theta ~ N(0, 0.1) as nn.DenseLayer in the paper's code: with Adam, a smaller start turns the directions faster.
        weightNormDense({ name, units, activation, trainScale, stddev: D_THETA_STDDEV, seed: config.seed * 1000 + offset })
      : tf.layers.dense({ name, units, activation, kernelInitializer: init(config, offset) });
  const image = tf.input({ shape: [config.imageSize, config.imageSize, 1], name: 'image' });
  let x = tf.layers.flatten({ name: 'd_flatten' }).apply(image) as tf.SymbolicTensor;
  // -> [size*size]
  // ganql's [-1, 1] pixels to the paper's [0, 1]: with [-1, 1], the background (-1) adds each unit's weight
  // sum to its pre-activation, so every turn of a first-layer direction shifts it (training at lr 0.003 diverged).
  x = tf.layers.rescaling({ name: 'd_unit_range', scale: 0.5, offset: 0.5 }).apply(x) as tf.SymbolicTensor;
  // -> [size*size] in [0, 1]
  if (noise) x = seededGaussianNoise({ name: 'd_noise0', stddev: config.inputNoise, seed: config.seed * 1000 + 100 }).apply(x) as tf.SymbolicTensor;
  config.discriminatorUnits.forEach((units, i) => {
    x = dense(kPlusOneHiddenLayer(i + 1), units, 'relu', 10 + i, false).apply(x) as tf.SymbolicTensor;
    // -> [units]
    if (noise) x = seededGaussianNoise({ name: `d_noise${i + 1}`, stddev: config.hiddenNoise, seed: config.seed * 1000 + 101 + i }).apply(x) as tf.SymbolicTensor;
  });
  const logits = dense('d_logits', config.classes, 'linear', 30, true).apply(x) as tf.SymbolicTensor;
  // -> [K]
  return tf.model({ name: noise ? 'kplusone_discriminator' : 'kplusone_classifier', inputs: image, outputs: logits });
}

/** z [latentSize] -> image [size, size, 1] in [-1, 1]. With virtualBatchNorm, VBN replaces batchnorm (sec 3.4). */
export function buildKPlusOneGenerator(partial: Partial<KPlusOneMlpConfig> = {}, variant: { virtualBatchNorm?: { referenceSize: number } } = {}): tf.LayersModel {
  const config = resolveKPlusOneMlpConfig(partial);
  const vbn = variant.virtualBatchNorm;
  const z = tf.input({ shape: [config.latentSize], name: 'z' });
  let x: tf.SymbolicTensor = z;
  config.generatorUnits.forEach((units, i) => {
    const name = `g_hidden${i + 1}`;
    // No bias: the batchnorm after it has one.
    x = tf.layers.dense({ name, units, useBias: false, kernelInitializer: init(config, 1 + i) }).apply(x) as tf.SymbolicTensor;
    // -> [units]
    const norm = vbn === undefined
      ? tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-5 })
      : virtualBatchNormalization({ name: `${name}_vbn`, referenceSize: vbn.referenceSize, epsilon: 1e-5 });
    x = norm.apply(x) as tf.SymbolicTensor;
    // A fixed scale of 1 (the paper's batch_norm(g=None)): with a trained one G shrank it and ignored z
    // (every sample alike). tfjs's scale: false breaks in training mode, so gamma is frozen instead.
    for (const w of norm.weights) if (w.originalName.endsWith('/gamma')) w.trainable = false;
    x = tf.layers.activation({ name: `${name}_softplus`, activation: 'softplus' }).apply(x) as tf.SymbolicTensor;
  });
  const pixels = config.imageSize * config.imageSize;
  // Weight-normalised with a trained scale, as the paper's l2normalize: a plain dense tanh layer saturated (95% of pixels at +-1) within an epoch.
  x = weightNormDense({ name: 'g_pixels', units: pixels, activation: 'linear', trainScale: true, seed: config.seed * 1000 + 9 }).apply(x) as tf.SymbolicTensor;
  // -> [size*size]
  // tanh(y / 2) = 2 sigmoid(y) - 1: D (which maps pixels to [0, 1]) sees the paper's sigmoid(y). A plain tanh(y)
  // is sigmoid(2y) there: twice as steep, G saturated on one near-binary image and D won within 3 epochs.
  x = tf.layers.rescaling({ name: 'g_pixels_half', scale: 0.5, offset: 0 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ name: 'g_pixels_tanh', activation: 'tanh' }).apply(x) as tf.SymbolicTensor;
  // -> [size*size] in [-1, 1]
  const image = tf.layers.reshape({ name: 'g_image', targetShape: [config.imageSize, config.imageSize, 1] }).apply(x) as tf.SymbolicTensor;
  // -> [size, size, 1]
  return tf.model({ name: 'kplusone_generator', inputs: z, outputs: image });
}

/**
 * The served classifier of a trained K+1 discriminator: the same network with plain dense layers
 * (kernel v * g / ||v||, bias b) and no noise layers, so it loads with standard tfjs layers.
 * The result owns its weights (dispose it).
 */
export function kPlusOneClassifierOf(discriminator: tf.LayersModel, partial: Partial<KPlusOneMlpConfig>): tf.LayersModel {
  const classifier = buildKPlusOneDiscriminator(partial, { served: true });
  for (const layer of classifier.layers) {
    if (layer.getWeights().length === 0) continue;
    const source = discriminator.getLayer(layer.name);
    if (!(source instanceof WeightNormDense)) throw new Error(`kPlusOneClassifierOf: expected ${layer.name} to be a WeightNormDense layer, got ${source.getClassName()}`);
    const kernel = source.kernel();
    layer.setWeights([kernel, source.bias()]);
    kernel.dispose();
  }
  return classifier;
}
