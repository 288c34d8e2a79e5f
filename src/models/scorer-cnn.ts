import * as tf from '@tensorflow/tfjs';

/**
 * The small classifier shipped as ganql's scorer (src/evaluation/scorer.ts):
 * [conv 3x3 -> relu -> maxpool 2] x 2 -> dense `featureUnits` relu (the FID/KID feature layer)
 * -> dense `classes` logits -> softmax. Sized for 28x28 grayscale datasets on two CPU cores.
 */
export interface ScorerCnnConfig {
  /** Input image [height, width, channels]; [28, 28, 1] for MNIST and Fashion-MNIST. */
  inputShape: [number, number, number];
  /** Number of classes; 10 for both datasets. */
  classes: number;
  /** Filters of the first conv layer; 16 keeps an epoch of 9,000 digits well under a minute on wasm. */
  filters1: number;
  /** Filters of the second conv layer; twice the first, as usual when the resolution halves. */
  filters2: number;
  /** Width of the feature layer read by FID/KID; 128. */
  featureUnits: number;
  /** Seed of the weight initialisers; each layer offsets it. */
  seed: number;
}

export const defaultScorerCnnConfig: Readonly<ScorerCnnConfig> = Object.freeze({
  inputShape: [28, 28, 1] as [number, number, number],
  classes: 10,
  filters1: 16,
  filters2: 32,
  featureUnits: 128,
  seed: 1,
});

/** Layer names other code refers to. */
export const SCORER_CNN_LAYERS = Object.freeze({ features: 'features', logits: 'logits', probs: 'probs' });

/** Checks a (possibly partial) config and fills defaults; errors say "expected X, got Y". */
export function resolveScorerCnnConfig(partial: Partial<ScorerCnnConfig> = {}): ScorerCnnConfig {
  const config: ScorerCnnConfig = { ...defaultScorerCnnConfig, ...partial };
  const shape = config.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`ScorerCnnConfig.inputShape: expected [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  }
  if (shape[0] % 4 !== 0 || shape[1] % 4 !== 0) {
    throw new Error(`ScorerCnnConfig.inputShape: expected height and width divisible by 4 (two 2x2 pools), got ${shape[0]}x${shape[1]}`);
  }
  for (const key of ['classes', 'filters1', 'filters2', 'featureUnits'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`ScorerCnnConfig.${key}: expected a positive integer, got ${config[key]}`);
  }
  if (config.classes < 2) throw new Error(`ScorerCnnConfig.classes: expected at least 2, got ${config.classes}`);
  if (!Number.isInteger(config.seed)) throw new Error(`ScorerCnnConfig.seed: expected an integer, got ${config.seed}`);
  return config;
}

/** image [h, w, c] -> class probabilities [classes]; the logits layer is named for training. */
export function buildScorerCnn(partial: Partial<ScorerCnnConfig> = {}): tf.LayersModel {
  const config = resolveScorerCnnConfig(partial);
  const init = (offset: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed: config.seed * 1000 + offset });
  const image = tf.input({ shape: config.inputShape, name: 'image' });
  let x = tf.layers
    .conv2d({ name: 'conv1', filters: config.filters1, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) })
    .apply(image) as tf.SymbolicTensor;
  // -> [h, w, f1]
  x = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  // -> [h/2, w/2, f1]
  x = tf.layers
    .conv2d({ name: 'conv2', filters: config.filters2, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) })
    .apply(x) as tf.SymbolicTensor;
  // -> [h/2, w/2, f2]
  x = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  // -> [h/4, w/4, f2]
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  // -> [(h/4) * (w/4) * f2]
  x = tf.layers
    .dense({ name: SCORER_CNN_LAYERS.features, units: config.featureUnits, activation: 'relu', kernelInitializer: init(3) })
    .apply(x) as tf.SymbolicTensor;
  // -> [featureUnits]
  const logits = tf.layers.dense({ name: SCORER_CNN_LAYERS.logits, units: config.classes, kernelInitializer: init(4) }).apply(x) as tf.SymbolicTensor;
  // -> [classes]
  const probs = tf.layers.activation({ name: SCORER_CNN_LAYERS.probs, activation: 'softmax' }).apply(logits) as tf.SymbolicTensor;
  // -> [classes], rows sum to 1
  return tf.model({ name: 'scorer_cnn', inputs: image, outputs: probs });
}
