import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModel, saveLayersModel } from '../../src/models/io';
import type { ModelManifest } from '../../src/models/manifest';
import { buildTestGenerator } from '../helpers/generator';

export const FIXTURE_LATENT = 16;
export const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * A small K+1-style classifier for 28x28x1 images: conv -> dense -> K logits, seeded. Its weights
 * are scaled up so its logits spread over several units (probabilities well away from uniform).
 */
export function buildTestClassifier(classes: number, seed: number): tf.LayersModel {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed * 100 + offset });
  const image = tf.input({ shape: [28, 28, 1], name: 'image' });
  let x = tf.layers
    .conv2d({ name: 'c_conv', filters: 4, kernelSize: 5, strides: 2, activation: 'relu', kernelInitializer: init(1) })
    .apply(image) as tf.SymbolicTensor;
  // -> [12, 12, 4]
  x = tf.layers.flatten({ name: 'c_flatten' }).apply(x) as tf.SymbolicTensor;
  // -> [576]
  x = tf.layers.dense({ name: 'c_hidden', units: 32, activation: 'relu', kernelInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  // -> [32]
  const logits = tf.layers
    .dense({ name: 'c_logits', units: classes, kernelInitializer: init(3), biasInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1, seed }) })
    .apply(x) as tf.SymbolicTensor;
  // -> [K]
  const model = tf.model({ name: 'test_classifier', inputs: image, outputs: logits });
  // Larger weights: logits of a few units, so the K+1 softmax is far from uniform.
  const scaled = model.getWeights().map((w) => tf.mul(w, 3));
  model.setWeights(scaled);
  tf.dispose(scaled);
  return model;
}

export interface FixtureOptions {
  name: string;
  version: string;
  /** Class names; omit for a plain GAN without a classifier. */
  classes?: string[];
  seed?: number;
  /** Written into the manifest's classifier.path; the classifier is saved there. @default 'classifier' */
  classifierPath?: string;
  /** Save a classifier whose output does not match the classes (to test the load checks). */
  wrongClassifierClasses?: number;
  /** Write no generator (a classifier trained in supervised mode); needs classes. @default true */
  generator?: boolean;
}

/**
 * Writes `<modelsDir>/<folder>` as a training run would: generator/ (unless `generator` is false),
 * classifier/ (when classes are given) and manifest.json with `classifier: { path, classes, inputRange: [-1, 1] }`.
 */
export async function writeFixtureModel(modelsDir: string, folder: string, options: FixtureOptions): Promise<void> {
  const dir = path.join(modelsDir, folder);
  const seed = options.seed ?? 1;
  const withGenerator = options.generator ?? true;
  if (withGenerator) {
    const generator = buildTestGenerator({ latentSize: FIXTURE_LATENT, generatorFilters: 8 });
    await saveLayersModel(generator, path.join(dir, 'generator'));
    generator.dispose();
  }
  const classifierPath = options.classifierPath ?? 'classifier';
  if (options.classes !== undefined) {
    const classifier = buildTestClassifier(options.wrongClassifierClasses ?? options.classes.length, seed);
    await saveLayersModel(classifier, path.join(dir, classifierPath));
    classifier.dispose();
  }
  const manifest: ModelManifest = {
    formatVersion: 1,
    name: options.name,
    version: options.version,
    architecture: options.classes ? 'kplusone-test' : 'dcgan',
    dataset: 'mnist',
    ...(withGenerator ? { latentSize: FIXTURE_LATENT, generatorPath: 'generator' } : {}),
    imageShape: [28, 28, 1],
    outputRange: [-1, 1],
    ...(options.classes ? { classifier: { path: classifierPath, classes: options.classes, inputRange: [-1, 1] as [number, number] } } : {}),
    training: {
      seed,
      epochs: 0,
      batchSize: 1,
      learningRate: 0,
      beta1: 0,
      examples: 0,
      command: 'test fixture',
      backend: 'wasm',
      finalLosses: { generator: 0, discriminator: 0 },
      durationSeconds: 0,
      finishedAt: new Date(0).toISOString(),
      architectureConfig: {},
    },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}

/** The saved classifier of a fixture folder, as the test's own reference (the caller disposes it). */
export function loadFixtureClassifier(modelsDir: string, folder: string, classifierPath = 'classifier'): Promise<tf.LayersModel> {
  return loadLayersModel(path.join(modelsDir, folder, classifierPath));
}

/** Seeded 28x28x1 images with integer pixels in 0..255 (blurry blobs rather than pure noise). */
export function seededImages(n: number, seed: number): Float32Array[] {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32: deterministic, no tfjs needed.
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, () => {
    const cx = 6 + next() * 16;
    const cy = 6 + next() * 16;
    const r = 3 + next() * 6;
    return Float32Array.from({ length: 784 }, (_, i) => {
      const x = i % 28;
      const y = Math.floor(i / 28);
      const d = Math.hypot(x - cx, y - cy);
      return Math.min(255, Math.round(255 * Math.exp(-((d / r) ** 2)) + next() * 20));
    });
  });
}

/** [-1, 1] inputs of a classifier from 0..255 pixels, as the service scales them. */
export function toUnitRange(pixels: Float32Array): Float32Array {
  return pixels.map((v) => -1 + (v * 2) / 255);
}
