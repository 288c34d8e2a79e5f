import * as tf from '@tensorflow/tfjs';
import { minibatchDiscrimination, type MinibatchDiscriminationConfig } from './layers/minibatch-discrimination';
import { virtualBatchNormalization } from './layers/virtual-batch-norm';

/**
 * Architecture settings of the ganql DCGAN (Radford et al. 2015, sized for 28x28 MNIST on CPU).
 * Generator: dense -> [7, 7, 2f] -> convT s2 -> [14, 14, f] -> convT s2 -> [28, 28, channels].
 * Discriminator: conv s2 -> [14, 14, d] -> conv s2 -> [7, 7, 2d] -> flatten -> dense 1 (a logit).
 */
export interface DcganConfig {
  /** Length of z; 100 as in the paper. */
  latentSize: number;
  /** Output side in pixels; 28 for MNIST (must be divisible by 4: two stride-2 layers). */
  imageSize: number;
  /** Image channels; 1 for grayscale MNIST. */
  channels: number;
  /** Generator filters at 14x14 (7x7 has twice as many); 32 keeps a train step well under a second on wasm. */
  generatorFilters: number;
  /** Discriminator filters at 14x14 (7x7 has twice as many); 32, matched to the generator. */
  discriminatorFilters: number;
  /** Side of every conv / transposed-conv kernel; 5 as in the paper's reference code. */
  kernelSize: number;
  /** Negative slope of the discriminator's LeakyReLU; 0.2 as in the paper. */
  leakyReluAlpha: number;
  /** Keras-style momentum of the batchnorm moving statistics; 0.9 (PyTorch's 0.1) so they keep up with a short training. */
  batchNormMomentum: number;
  /** Standard deviation of the N(0, std) weight initialisers; 0.02 as in the paper. */
  initStddev: number;
  /** Seed of the weight initialisers; each layer offsets it, so one seed fixes every initial weight. */
  seed: number;
}

export const defaultDcganConfig: Readonly<DcganConfig> = Object.freeze({
  latentSize: 100,
  imageSize: 28,
  channels: 1,
  generatorFilters: 32,
  discriminatorFilters: 32,
  kernelSize: 5,
  leakyReluAlpha: 0.2,
  batchNormMomentum: 0.9,
  initStddev: 0.02,
  seed: 42,
});

/** Checks a (possibly partial) config and fills defaults; errors say "expected X, got Y". */
export function resolveDcganConfig(partial: Partial<DcganConfig> = {}): DcganConfig {
  const config: DcganConfig = { ...defaultDcganConfig, ...partial };
  const positiveInts: (keyof DcganConfig)[] = ['latentSize', 'imageSize', 'channels', 'generatorFilters', 'discriminatorFilters', 'kernelSize'];
  for (const key of positiveInts) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) throw new Error(`DcganConfig.${key}: expected a positive integer, got ${v}`);
  }
  if (config.imageSize % 4 !== 0) throw new Error(`DcganConfig.imageSize: expected a multiple of 4, got ${config.imageSize}`);
  if (!Number.isInteger(config.seed)) throw new Error(`DcganConfig.seed: expected an integer, got ${config.seed}`);
  if (!(config.leakyReluAlpha >= 0 && config.leakyReluAlpha < 1)) throw new Error(`DcganConfig.leakyReluAlpha: expected [0, 1), got ${config.leakyReluAlpha}`);
  if (!(config.batchNormMomentum > 0 && config.batchNormMomentum < 1)) throw new Error(`DcganConfig.batchNormMomentum: expected (0, 1), got ${config.batchNormMomentum}`);
  if (!(config.initStddev > 0)) throw new Error(`DcganConfig.initStddev: expected > 0, got ${config.initStddev}`);
  return config;
}

/** A seeded N(mean, std) initialiser; `offset` gives each layer its own stream. */
function normal(config: DcganConfig, offset: number, mean = 0): ReturnType<typeof tf.initializers.randomNormal> {
  return tf.initializers.randomNormal({ mean, stddev: config.initStddev, seed: config.seed * 1000 + offset });
}

function batchNorm(config: DcganConfig, offset: number, name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({
    name,
    momentum: config.batchNormMomentum,
    epsilon: 1e-5,
    gammaInitializer: normal(config, offset, 1),
  });
}

/** Variants of the generator (Salimans et al. 2016); none by default, the plain DCGAN G. */
export interface GeneratorVariant {
  /**
   * Virtual batch normalization (sec 3.4) in place of both batchnorms: every batch fed to G must
   * start with the same referenceSize reference rows (techniques/virtual-batch-norm withReference).
   */
  virtualBatchNorm?: { referenceSize: number };
}

/** z [latentSize] -> image [size, size, channels] in [-1, 1]. */
export function buildGenerator(partial: Partial<DcganConfig> = {}, variant: GeneratorVariant = {}): tf.LayersModel {
  const config = resolveDcganConfig(partial);
  const vbn = variant.virtualBatchNorm;
  const norm = (offset: number, name: string): tf.layers.Layer =>
    vbn === undefined ? batchNorm(config, offset, name) : virtualBatchNormalization({ name: name.replace(/_bn$/, '_vbn'), referenceSize: vbn.referenceSize, epsilon: 1e-5 });
  const s = config.imageSize / 4;
  const f = config.generatorFilters;
  const k = config.kernelSize;
  const z = tf.input({ shape: [config.latentSize], name: 'z' });
  // Projection: the only dense layer; no bias, batchnorm follows.
  let x = tf.layers.dense({ name: 'g_project', units: s * s * 2 * f, useBias: false, kernelInitializer: normal(config, 1) }).apply(z) as tf.SymbolicTensor;
  // -> [s*s*2f]
  x = norm(2, 'g_project_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'g_project_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ name: 'g_reshape', targetShape: [s, s, 2 * f] }).apply(x) as tf.SymbolicTensor;
  // -> [7, 7, 2f]
  x = tf.layers
    .conv2dTranspose({ name: 'g_up1', filters: f, kernelSize: k, strides: 2, padding: 'same', useBias: false, kernelInitializer: normal(config, 3) })
    .apply(x) as tf.SymbolicTensor;
  // -> [14, 14, f]
  x = norm(4, 'g_up1_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'g_up1_relu' }).apply(x) as tf.SymbolicTensor;
  // Output layer: no batchnorm (paper), tanh to [-1, 1].
  const image = tf.layers
    .conv2dTranspose({
      name: 'g_up2',
      filters: config.channels,
      kernelSize: k,
      strides: 2,
      padding: 'same',
      activation: 'tanh',
      kernelInitializer: normal(config, 5),
      biasInitializer: 'zeros',
    })
    .apply(x) as tf.SymbolicTensor;
  // -> [28, 28, channels]
  return tf.model({ name: 'generator', inputs: z, outputs: image });
}

/** Variants of the discriminator (Salimans et al. 2016); none by default, the plain DCGAN D. */
export interface DiscriminatorVariant {
  /** Adds a minibatch discrimination layer (sec 3.2) named 'd_minibatch' between the flatten and the logit. */
  minibatchDiscrimination?: Pick<MinibatchDiscriminationConfig, 'kernels' | 'kernelDim'>;
  /** K logits instead of one: the semi-supervised K+1 discriminator (Salimans et al. sec 5; logit K+1 fixed at 0). */
  classes?: number;
}

/**
 * image [size, size, channels] -> one logit (real > 0); pair it with sigmoid cross-entropy from logits.
 * With variant.classes = K: K class logits (the K+1 discriminator).
 */
export function buildDiscriminator(partial: Partial<DcganConfig> = {}, variant: DiscriminatorVariant = {}): tf.LayersModel {
  const config = resolveDcganConfig(partial);
  const outputs = variant.classes ?? 1;
  if (!Number.isInteger(outputs) || outputs < 1) throw new Error(`DiscriminatorVariant.classes: expected a positive integer, got ${variant.classes}`);
  const d = config.discriminatorFilters;
  const k = config.kernelSize;
  const image = tf.input({ shape: [config.imageSize, config.imageSize, config.channels], name: 'image' });
  // Input layer: no batchnorm (paper).
  let x = tf.layers
    .conv2d({ name: 'd_down1', filters: d, kernelSize: k, strides: 2, padding: 'same', kernelInitializer: normal(config, 11), biasInitializer: 'zeros' })
    .apply(image) as tf.SymbolicTensor;
  // -> [14, 14, d]
  x = tf.layers.leakyReLU({ name: 'd_down1_lrelu', alpha: config.leakyReluAlpha }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ name: 'd_down2', filters: 2 * d, kernelSize: k, strides: 2, padding: 'same', useBias: false, kernelInitializer: normal(config, 12) })
    .apply(x) as tf.SymbolicTensor;
  // -> [7, 7, 2d]
  x = batchNorm(config, 13, 'd_down2_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.leakyReLU({ name: 'd_down2_lrelu', alpha: config.leakyReluAlpha }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'd_flatten' }).apply(x) as tf.SymbolicTensor;
  // -> [7*7*2d]
  const mbd = variant.minibatchDiscrimination;
  if (mbd !== undefined) {
    x = minibatchDiscrimination({ name: 'd_minibatch', kernels: mbd.kernels, kernelDim: mbd.kernelDim, seed: config.seed * 1000 + 15 }).apply(x) as tf.SymbolicTensor;
    // -> [7*7*2d + kernels]
  }
  const logit = tf.layers.dense({ name: 'd_logit', units: outputs, kernelInitializer: normal(config, 14), biasInitializer: 'zeros' }).apply(x) as tf.SymbolicTensor;
  // -> [1] (or [K])
  return tf.model({ name: 'discriminator', inputs: image, outputs: logit });
}
