import * as tf from '@tensorflow/tfjs';
import { seededDropout } from './layers/seeded-dropout';

/**
 * The MLP GAN of Goodfellow et al. 2014 for 28x28 grayscale (the paper's MNIST setup, from its
 * pylearn2 code): G: z -> 1200 ReLU -> 1200 ReLU -> 784 -> [28, 28, 1];
 * D: image -> flatten -> maxout 240 (5 pieces) -> maxout 240 (5 pieces) -> 1 logit, dropout on each hidden layer.
 * Maxout is a dense layer of units*pieces, reshaped to [pieces, units] and max-pooled over the
 * pieces, so the model uses only built-in (serialisable) layers.
 */
export interface MlpGanConfig {
  /** Length of z; 100 as in the paper. */
  latentSize: number;
  /** Output side in pixels; 28 for MNIST. */
  imageSize: number;
  /** Units of each of G's two hidden ReLU layers; 1200 as in the paper. */
  generatorUnits: number;
  /** Units of each of D's two maxout layers; 240 as in the paper. */
  discriminatorUnits: number;
  /** Linear pieces per maxout unit; 5 as in the paper. */
  maxoutPieces: number;
  /** Dropout rate on D's hidden layers (training only); 0.5 as in the paper's code. */
  dropout: number;
  /**
   * G's output activation: 'tanh' (default) matches ganql's datasets, scaled to [-1, 1];
   * 'sigmoid' is the paper's, for data in [0, 1].
   */
  outputActivation: 'tanh' | 'sigmoid';
  /** Seed of the weight initialisers; each layer offsets it. */
  seed: number;
}

export const defaultMlpGanConfig: Readonly<MlpGanConfig> = Object.freeze({
  latentSize: 100,
  imageSize: 28,
  generatorUnits: 1200,
  discriminatorUnits: 240,
  maxoutPieces: 5,
  dropout: 0.5,
  outputActivation: 'tanh' as const,
  seed: 42,
});

/** Checks a (possibly partial) config and fills defaults; errors say "expected X, got Y". */
export function resolveMlpGanConfig(partial: Partial<MlpGanConfig> = {}): MlpGanConfig {
  const config: MlpGanConfig = { ...defaultMlpGanConfig, ...partial };
  for (const key of ['latentSize', 'imageSize', 'generatorUnits', 'discriminatorUnits', 'maxoutPieces'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`MlpGanConfig.${key}: expected a positive integer, got ${config[key]}`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`MlpGanConfig.dropout: expected [0, 1), got ${config.dropout}`);
  if (config.outputActivation !== 'tanh' && config.outputActivation !== 'sigmoid') {
    throw new Error(`MlpGanConfig.outputActivation: expected "tanh" or "sigmoid", got ${JSON.stringify(config.outputActivation)}`);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`MlpGanConfig.seed: expected an integer, got ${config.seed}`);
  return config;
}

function init(config: MlpGanConfig, offset: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: config.seed * 1000 + offset });
}

/** z [latentSize] -> image [size, size, 1] in the output activation's range. */
export function buildMlpGenerator(partial: Partial<MlpGanConfig> = {}): tf.LayersModel {
  const config = resolveMlpGanConfig(partial);
  const pixels = config.imageSize * config.imageSize;
  const z = tf.input({ shape: [config.latentSize], name: 'z' });
  let x = tf.layers.dense({ name: 'g_hidden1', units: config.generatorUnits, activation: 'relu', kernelInitializer: init(config, 1) }).apply(z) as tf.SymbolicTensor;
  // -> [generatorUnits]
  x = tf.layers.dense({ name: 'g_hidden2', units: config.generatorUnits, activation: 'relu', kernelInitializer: init(config, 2) }).apply(x) as tf.SymbolicTensor;
  // -> [generatorUnits]
  x = tf.layers.dense({ name: 'g_pixels', units: pixels, activation: config.outputActivation, kernelInitializer: init(config, 3) }).apply(x) as tf.SymbolicTensor;
  // -> [size*size]
  const image = tf.layers.reshape({ name: 'g_image', targetShape: [config.imageSize, config.imageSize, 1] }).apply(x) as tf.SymbolicTensor;
  // -> [size, size, 1]
  return tf.model({ name: 'mlp_generator', inputs: z, outputs: image });
}

/** maxout(units, pieces) as dense -> reshape -> max over pieces. */
function maxout(config: MlpGanConfig, input: tf.SymbolicTensor, name: string, offset: number): tf.SymbolicTensor {
  const { discriminatorUnits: units, maxoutPieces: pieces } = config;
  let x = tf.layers.dense({ name: `${name}_linear`, units: units * pieces, kernelInitializer: init(config, offset) }).apply(input) as tf.SymbolicTensor;
  // -> [units*pieces]
  x = tf.layers.reshape({ name: `${name}_pieces`, targetShape: [pieces, units] }).apply(x) as tf.SymbolicTensor;
  // -> [pieces, units]
  x = tf.layers.globalMaxPooling1d({ name }).apply(x) as tf.SymbolicTensor;
  // -> [units]: the max of each unit's pieces
  return x;
}

/** image [size, size, 1] -> one logit (real > 0); pair it with sigmoid cross-entropy from logits. */
export function buildMlpDiscriminator(partial: Partial<MlpGanConfig> = {}): tf.LayersModel {
  const config = resolveMlpGanConfig(partial);
  const image = tf.input({ shape: [config.imageSize, config.imageSize, 1], name: 'image' });
  let x = tf.layers.flatten({ name: 'd_flatten' }).apply(image) as tf.SymbolicTensor;
  // -> [size*size]
  x = maxout(config, x, 'd_maxout1', 11);
  // -> [discriminatorUnits]
  // Seeded per step (reseedNoise): tf.layers.dropout with a seed would apply one fixed mask for the whole training.
  x = seededDropout({ name: 'd_dropout1', rate: config.dropout, seed: config.seed * 1000 + 12 }).apply(x) as tf.SymbolicTensor;
  x = maxout(config, x, 'd_maxout2', 13);
  // -> [discriminatorUnits]
  x = seededDropout({ name: 'd_dropout2', rate: config.dropout, seed: config.seed * 1000 + 14 }).apply(x) as tf.SymbolicTensor;
  const logit = tf.layers.dense({ name: 'd_logit', units: 1, kernelInitializer: init(config, 15) }).apply(x) as tf.SymbolicTensor;
  // -> [1]
  return tf.model({ name: 'mlp_discriminator', inputs: image, outputs: logit });
}
