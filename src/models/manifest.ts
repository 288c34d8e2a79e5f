import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The manifest written beside every model version (models/<name>/manifest.json).
 * It is the contract between the training scripts, which write it, and the model
 * registry, which reads it at start-up.
 */
export interface ModelManifest {
  /** Manifest format version; bump when fields change meaning. */
  formatVersion: 1;
  /** Stable name of the model family, e.g. "dcgan-mnist". */
  name: string;
  /** Version label of this trained artefact, e.g. "1" or "2026-11-27T04-10". */
  version: string;
  /** Architecture key understood by src/models (e.g. "dcgan"). */
  architecture: string;
  /** Dataset the model was trained on (e.g. "mnist"). */
  dataset: string;
  /** Length of the latent vector z fed to the generator; absent with the generator (see generatorPath). */
  latentSize?: number;
  /** Output image shape [height, width, channels]. */
  imageShape: [number, number, number];
  /** Pixel range of the generator output (tanh generators emit [-1, 1]); without a generator, of the images the model was trained on. */
  outputRange: [number, number];
  /**
   * Relative path (from the manifest's folder) of the generator in tfjs layers format. Absent only on
   * a model that classifies and generates nothing (a supervised-only classifier, which has a `classifier`).
   */
  generatorPath?: string;
  /** Relative path of the discriminator in tfjs layers format, if shipped. */
  discriminatorPath?: string;
  /**
   * Present on semi-supervised K+1 models (Salimans et al. 2016 sec 5): the network at `path`
   * (tfjs layers format, relative to the manifest's folder) maps an image of imageShape, with
   * pixels in `inputRange`, to K logits, one per class in `classes` order; the (K+1)th
   * "generated" logit is fixed at 0 (src/training/k-plus-one.ts). `classify` serves it.
   */
  classifier?: {
    path: string;
    /** Class names, K of them, in logit order (e.g. "0".."9"). */
    classes: string[];
    /** Pixel range the classifier expects; images are scaled from [0, 255] into it. */
    inputRange: [number, number];
  };
  /**
   * The network whose layers the feature analyses read (neuronProbe, optimalStimulus, featureClassifier):
   * at `path` (tfjs layers format, relative to the manifest's folder), taking an image of imageShape
   * with pixels in `inputRange`. Absent: the discriminator (discriminatorPath) with inputRange = outputRange.
   * An autoencoder ships its encoder here ({ path: 'encoder', role: 'encoder', inputRange: [-1, 1] }).
   */
  featureNetwork?: {
    path: string;
    /** 'encoder': an autoencoder's encoder; 'discriminator': a GAN's discriminator. */
    role: 'encoder' | 'discriminator';
    /** Pixel range the network expects; images are scaled from [0, 255] into it. */
    inputRange: [number, number];
  };
  /** Hyper-parameters and provenance of the training run. */
  training: {
    seed: number;
    epochs: number;
    batchSize: number;
    learningRate: number;
    beta1: number;
    /** Number of training examples used. */
    examples: number;
    /** The exact command line that produced this version. */
    command: string;
    /** The model id ("<name>@<version>") of the version it was fine-tuned from; absent when it trained from scratch (or was written before this was recorded). */
    fineTuneFrom?: string;
    /** tfjs backend the training ran on. */
    backend: string;
    /** The kernels it trained on, e.g. "native avx512, 2 threads" (absent in versions written before it was recorded). */
    kernels?: string;
    /** Final mean losses of the last epoch. */
    finalLosses: { generator: number; discriminator: number };
    /** Wall-clock seconds the training took. */
    durationSeconds: number;
    /** ISO time the training finished. */
    finishedAt: string;
    /** Architecture settings passed to the builders (filters, kernel size, ...). */
    architectureConfig: Record<string, number | string | boolean>;
    /** Held-out results measured at the end of training (e.g. testError of a K+1 classifier, as a fraction). */
    metrics?: Record<string, number>;
  };
}

/** A manifest's generator: its folder (relative to the manifest's) and the length of its z. */
export interface GeneratorEntry {
  path: string;
  latentSize: number;
}

/** The manifest's generator, or undefined on a model without one (parseManifest checks the two fields come together). */
export function generatorOf(manifest: ModelManifest): GeneratorEntry | undefined {
  const { generatorPath, latentSize } = manifest;
  return generatorPath !== undefined && latentSize !== undefined ? { path: generatorPath, latentSize } : undefined;
}

/** Reads and checks `<dir>/manifest.json`. */
export function readManifest(dir: string): ModelManifest {
  const file = path.join(dir, 'manifest.json');
  return parseManifest(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** Checks an unknown JSON value and returns it typed, or throws naming the first bad field. */
export function parseManifest(value: unknown, source: string): ModelManifest {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new Error(`${source}: manifest field "${field}": expected ${expected}, got ${JSON.stringify(got)}`);
  };
  if (typeof value !== 'object' || value === null) return fail('(root)', 'an object', value);
  const m = value as Record<string, unknown>;
  if (m.formatVersion !== 1) fail('formatVersion', '1', m.formatVersion);
  for (const key of ['name', 'version', 'architecture', 'dataset'] as const) {
    if (typeof m[key] !== 'string' || m[key].length === 0) fail(key, 'a non-empty string', m[key]);
  }
  // A model generates (generatorPath and latentSize), classifies (classifier), or both.
  if (m.generatorPath === undefined) {
    if (m.classifier === undefined) fail('generatorPath', 'a non-empty string, or a classifier on a model without a generator', m.generatorPath);
    if (m.latentSize !== undefined) fail('latentSize', 'none on a model without a generator (no generatorPath)', m.latentSize);
  } else {
    if (typeof m.generatorPath !== 'string' || m.generatorPath.length === 0) fail('generatorPath', 'a non-empty string when present', m.generatorPath);
    if (!Number.isInteger(m.latentSize) || (m.latentSize as number) < 1) fail('latentSize', 'a positive integer', m.latentSize);
  }
  const shape = m.imageShape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    fail('imageShape', '[height, width, channels] of positive integers', shape);
  }
  const range = m.outputRange;
  if (!Array.isArray(range) || range.length !== 2 || !range.every((d) => typeof d === 'number' && Number.isFinite(d))) {
    fail('outputRange', '[min, max] of finite numbers', range);
  }
  if (m.discriminatorPath !== undefined && typeof m.discriminatorPath !== 'string') {
    fail('discriminatorPath', 'a string when present', m.discriminatorPath);
  }
  if (m.classifier !== undefined) {
    const c = m.classifier as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null) fail('classifier', 'an object when present', c);
    const cl = c as Record<string, unknown>;
    if (typeof cl.path !== 'string' || cl.path.length === 0) fail('classifier.path', 'a non-empty string', cl.path);
    if (!Array.isArray(cl.classes) || cl.classes.length < 2 || !cl.classes.every((n) => typeof n === 'string' && n.length > 0)) {
      fail('classifier.classes', 'an array of at least 2 non-empty class names', cl.classes);
    }
    const r = cl.inputRange;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((d) => typeof d === 'number' && Number.isFinite(d)) || !((r[0] as number) < (r[1] as number))) {
      fail('classifier.inputRange', '[min, max] of finite numbers with min < max', r);
    }
  }
  if (m.featureNetwork !== undefined) {
    const f = m.featureNetwork as Record<string, unknown> | null;
    if (typeof f !== 'object' || f === null) fail('featureNetwork', 'an object when present', f);
    const fn = f as Record<string, unknown>;
    if (typeof fn.path !== 'string' || fn.path.length === 0) fail('featureNetwork.path', 'a non-empty string', fn.path);
    if (fn.role !== 'encoder' && fn.role !== 'discriminator') fail('featureNetwork.role', '"encoder" or "discriminator"', fn.role);
    const r = fn.inputRange;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((d) => typeof d === 'number' && Number.isFinite(d)) || !((r[0] as number) < (r[1] as number))) {
      fail('featureNetwork.inputRange', '[min, max] of finite numbers with min < max', r);
    }
  }
  if (typeof m.training !== 'object' || m.training === null) fail('training', 'an object', m.training);
  const t = m.training as Record<string, unknown>;
  for (const key of ['seed', 'epochs', 'batchSize', 'learningRate', 'examples', 'durationSeconds'] as const) {
    if (typeof t[key] !== 'number' || !Number.isFinite(t[key])) fail(`training.${key}`, 'a finite number', t[key]);
  }
  if (typeof t.command !== 'string') fail('training.command', 'a string', t.command);
  if (t.fineTuneFrom !== undefined && (typeof t.fineTuneFrom !== 'string' || !t.fineTuneFrom.includes('@'))) {
    fail('training.fineTuneFrom', 'a model id "<name>@<version>" when present', t.fineTuneFrom);
  }
  // Every field is checked above; the cast only narrows the already-validated object.
  return value as ModelManifest;
}
