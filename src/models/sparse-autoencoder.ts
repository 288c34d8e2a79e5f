import * as tf from '@tensorflow/tfjs';
import { copyLayerWeights } from './copy-weights';
import { seededGaussianNoise } from './layers/seeded-gaussian-noise';

/**
 * A sparse denoising deep autoencoder for 28x28 grayscale in [-1, 1], the unsupervised feature
 * learner of Le et al. 2012 at MNIST scale (their network is a sparse deep autoencoder too):
 * encoder: image -> flatten -> Gaussian noise (training only) -> hidden sigmoid layers -> sigmoid code;
 * decoder: code -> the hidden sizes reversed (ReLU) -> 784 tanh -> [28, 28, 1].
 * The sigmoid units of the encoder carry the sparsity penalty (src/training/autoencoder-trainer.ts):
 * each unit's mean activation is pushed towards a small target, so a unit fires for few images.
 * Encoder and decoder are two tf.LayersModel that compose: decoder(encoder(x)) reconstructs x.
 */
export interface SparseAutoencoderConfig {
  /** Output side in pixels; 28 for MNIST. */
  imageSize: number;
  /** Units of the encoder's hidden sigmoid layers (enc_hidden1, ...), input side first; the decoder mirrors them. */
  hiddenUnits: number[];
  /** Units of the code layer enc_code (the decoder's input, the manifest's latentSize). */
  codeSize: number;
  /** Stddev of the Gaussian noise on the encoder's input in training (denoising); 0 turns it off. */
  inputNoise: number;
  /** Seed of the weight initialisers and of the noise layer; each layer offsets it. */
  seed: number;
}

export const defaultSparseAutoencoderConfig: Readonly<SparseAutoencoderConfig> = Object.freeze({
  imageSize: 28,
  hiddenUnits: [256],
  codeSize: 64,
  // 0.5 on [-1, 1] pixels: strokes stay readable, so the code must describe shapes rather than pixels.
  inputNoise: 0.5,
  seed: 42,
});

/** Checks a (possibly partial) config and fills defaults; errors say "expected X, got Y". */
export function resolveSparseAutoencoderConfig(partial: Partial<SparseAutoencoderConfig> = {}): SparseAutoencoderConfig {
  const config: SparseAutoencoderConfig = { ...defaultSparseAutoencoderConfig, ...partial };
  for (const key of ['imageSize', 'codeSize'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`SparseAutoencoderConfig.${key}: expected a positive integer, got ${config[key]}`);
  }
  const units = config.hiddenUnits;
  if (!Array.isArray(units) || !units.every((u) => Number.isInteger(u) && u > 0)) {
    throw new Error(`SparseAutoencoderConfig.hiddenUnits: expected a list of positive integers, got ${JSON.stringify(units)}`);
  }
  if (!(config.inputNoise >= 0 && Number.isFinite(config.inputNoise))) {
    throw new Error(`SparseAutoencoderConfig.inputNoise: expected a finite number >= 0, got ${config.inputNoise}`);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`SparseAutoencoderConfig.seed: expected an integer, got ${config.seed}`);
  return config;
}

function init(config: SparseAutoencoderConfig, offset: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: config.seed * 1000 + offset });
}

/** The name of the encoder's i-th hidden layer (1-based), as users name it in the analyses. */
export function encoderHiddenLayer(i: number): string {
  return `enc_hidden${i}`;
}

/** The code layer: the encoder's output. */
export const ENCODER_CODE_LAYER = 'enc_code';

/** The encoder layers with the sparsity penalty: every hidden layer and the code, input side first. */
export function sparseLayerNames(partial: Partial<SparseAutoencoderConfig> = {}): string[] {
  const config = resolveSparseAutoencoderConfig(partial);
  return [...config.hiddenUnits.map((_, i) => encoderHiddenLayer(i + 1)), ENCODER_CODE_LAYER];
}

/**
 * image [size, size, 1] -> code [codeSize] in (0, 1). With `served` true: the encoder that is
 * shipped, without the noise layer (identity at inference anyway), so it loads with standard tfjs
 * layers only; encoderForServing fills it from a trained encoder.
 */
export function buildEncoder(partial: Partial<SparseAutoencoderConfig> = {}, options: { served?: boolean } = {}): tf.LayersModel {
  const config = resolveSparseAutoencoderConfig(partial);
  const image = tf.input({ shape: [config.imageSize, config.imageSize, 1], name: 'image' });
  let x = tf.layers.flatten({ name: 'enc_flatten' }).apply(image) as tf.SymbolicTensor;
  // -> [size*size]
  if (!(options.served ?? false) && config.inputNoise > 0) {
    x = seededGaussianNoise({ name: 'enc_noise', stddev: config.inputNoise, seed: config.seed * 1000 + 100 }).apply(x) as tf.SymbolicTensor;
    // -> [size*size]
  }
  config.hiddenUnits.forEach((units, i) => {
    x = tf.layers.dense({ name: encoderHiddenLayer(i + 1), units, activation: 'sigmoid', kernelInitializer: init(config, 1 + i) }).apply(x) as tf.SymbolicTensor;
    // -> [units]
  });
  const code = tf.layers.dense({ name: ENCODER_CODE_LAYER, units: config.codeSize, activation: 'sigmoid', kernelInitializer: init(config, 20) }).apply(x) as tf.SymbolicTensor;
  // -> [codeSize]
  return tf.model({ name: 'sparse_encoder', inputs: image, outputs: code });
}

/** code [codeSize] -> image [size, size, 1] in [-1, 1]: the hidden sizes of the encoder in reverse. */
export function buildDecoder(partial: Partial<SparseAutoencoderConfig> = {}): tf.LayersModel {
  const config = resolveSparseAutoencoderConfig(partial);
  const code = tf.input({ shape: [config.codeSize], name: 'code' });
  let x: tf.SymbolicTensor = code;
  [...config.hiddenUnits].reverse().forEach((units, i) => {
    x = tf.layers.dense({ name: `dec_hidden${i + 1}`, units, activation: 'relu', kernelInitializer: init(config, 40 + i) }).apply(x) as tf.SymbolicTensor;
    // -> [units]
  });
  const pixels = config.imageSize * config.imageSize;
  x = tf.layers.dense({ name: 'dec_pixels', units: pixels, activation: 'tanh', kernelInitializer: init(config, 60) }).apply(x) as tf.SymbolicTensor;
  // -> [size*size]
  const image = tf.layers.reshape({ name: 'dec_image', targetShape: [config.imageSize, config.imageSize, 1] }).apply(x) as tf.SymbolicTensor;
  // -> [size, size, 1]
  return tf.model({ name: 'sparse_decoder', inputs: code, outputs: image });
}

/** The shipped encoder of a trained one: the same layers and weights without the noise layer. The result owns its weights (dispose it). */
export function encoderForServing(encoder: tf.LayersModel, partial: Partial<SparseAutoencoderConfig>): tf.LayersModel {
  const served = buildEncoder(partial, { served: true });
  for (const layer of served.layers) {
    if (layer.weights.length > 0) copyLayerWeights(layer, encoder.getLayer(layer.name));
  }
  return served;
}
