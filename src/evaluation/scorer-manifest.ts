/**
 * scorer.json: the manifest of a scorer, a classifier whose class probabilities feed the
 * Inception Score and whose feature layer feeds FID and KID. Written by train-scorer.cli.ts
 * (or by hand beside a converted TensorFlow graph model) and read by loadScorer.
 */
export interface ScorerManifest {
  /** Manifest format version; bump when fields change meaning. */
  formatVersion: 1;
  /** Stable name, e.g. "mnist-cnn". */
  name: string;
  /** Dataset the classifier was trained on, e.g. "mnist" or "fashion-mnist". */
  dataset: string;
  /** Number of classes K (length of a probability row). */
  classes: number;
  /** Optional names of the K classes, in label order. */
  classNames?: string[];
  /** Input image shape [height, width, channels] the model expects. */
  inputShape: [number, number, number];
  /** Pixel range the model was trained on, e.g. [-1, 1]; inputs in another range are rescaled. */
  inputRange: [number, number];
  /** Where the model lives and which outputs to read. */
  model: ScorerModelSpec;
  /** Accuracy on the held-out test split, in [0, 1]. */
  testAccuracy: number;
  /** Size of that test split. */
  testExamples: number;
  /** Provenance of the weights. */
  training: {
    /** The exact command line that produced the model. */
    command: string;
    seed: number;
    /** How train and test data were chosen (split, seed, sizes). */
    split: string;
    epochs?: number;
    batchSize?: number;
    learningRate?: number;
    /** Number of training examples. */
    examples?: number;
    /** tfjs backend the training ran on. */
    backend?: string;
    durationSeconds?: number;
    /** ISO time the training finished. */
    finishedAt?: string;
    /** Architecture settings passed to the builder. */
    architectureConfig?: Record<string, number | string | boolean>;
  };
}

/** A tfjs layers model (src/models/io.ts) or a tfjs-converter graph model, and its two outputs. */
export type ScorerModelSpec =
  | {
      format: 'layers-model';
      /** Folder of model.json + weights, relative to scorer.json's folder ("." for the same). */
      path: string;
      /** Name of the layer whose output (flattened) is the feature vector for FID / KID. */
      featureLayer: string;
    }
  | {
      format: 'graph-model';
      /** Folder of the converter's model.json + weight shards, relative to scorer.json's folder. */
      path: string;
      /** Graph node giving the K class probabilities (e.g. a Softmax). */
      probabilitiesNode: string;
      /** Graph node giving the feature vector for FID / KID. */
      featuresNode: string;
    };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Checks an unknown JSON value and returns it typed, or throws naming the first bad field. */
export function parseScorerManifest(value: unknown, source: string): ScorerManifest {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new Error(`${source}: scorer field "${field}": expected ${expected}, got ${JSON.stringify(got)}`);
  };
  if (!isObject(value)) return fail('(root)', 'an object', value);
  const m = value;
  if (m.formatVersion !== 1) fail('formatVersion', '1', m.formatVersion);
  for (const key of ['name', 'dataset'] as const) if (!isNonEmptyString(m[key])) fail(key, 'a non-empty string', m[key]);
  if (!Number.isInteger(m.classes) || (m.classes as number) < 2) fail('classes', 'an integer >= 2', m.classes);
  if (m.classNames !== undefined) {
    if (!Array.isArray(m.classNames) || m.classNames.length !== m.classes || !m.classNames.every(isNonEmptyString)) {
      fail('classNames', `${String(m.classes)} non-empty strings when present`, m.classNames);
    }
  }
  const shape = m.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    fail('inputShape', '[height, width, channels] of positive integers', shape);
  }
  const range = m.inputRange;
  if (!Array.isArray(range) || range.length !== 2 || !range.every((d) => typeof d === 'number' && Number.isFinite(d)) || !(range[0] < range[1])) {
    fail('inputRange', '[min, max] of finite numbers with min < max', range);
  }
  if (!isObject(m.model)) return fail('model', 'an object', m.model);
  const model = m.model;
  if (!isNonEmptyString(model.path)) fail('model.path', 'a non-empty relative path', model.path);
  if (model.format === 'layers-model') {
    if (!isNonEmptyString(model.featureLayer)) fail('model.featureLayer', 'a layer name', model.featureLayer);
  } else if (model.format === 'graph-model') {
    if (!isNonEmptyString(model.probabilitiesNode)) fail('model.probabilitiesNode', 'a graph node name', model.probabilitiesNode);
    if (!isNonEmptyString(model.featuresNode)) fail('model.featuresNode', 'a graph node name', model.featuresNode);
  } else {
    fail('model.format', '"layers-model" or "graph-model"', model.format);
  }
  if (typeof m.testAccuracy !== 'number' || !(m.testAccuracy >= 0 && m.testAccuracy <= 1)) fail('testAccuracy', 'a number in [0, 1]', m.testAccuracy);
  if (!Number.isInteger(m.testExamples) || (m.testExamples as number) < 0) fail('testExamples', 'a non-negative integer', m.testExamples);
  if (!isObject(m.training)) return fail('training', 'an object', m.training);
  const t = m.training;
  if (typeof t.command !== 'string') fail('training.command', 'a string', t.command);
  if (!Number.isInteger(t.seed)) fail('training.seed', 'an integer', t.seed);
  if (typeof t.split !== 'string') fail('training.split', 'a string', t.split);
  // Every required field is checked above; the cast only narrows the already-validated object.
  return value as unknown as ScorerManifest;
}
