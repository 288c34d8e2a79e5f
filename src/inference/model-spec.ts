import path from 'node:path';
import { featureNetworkOf, type FeatureNetworkSpec } from '../models/feature-network';
import { generatorOf } from '../models/manifest';
import type { LoadedModel } from '../models/model-registry';
import type { OnnxPlan } from './onnx-sessions';

/** What an executor needs to serve one model version; every worker loads it from these folders. */
export interface ModelSpec {
  /** "<name>@<version>", as in the registry. */
  id: string;
  /** Absolute folder of the generator (model.json + weights.bin); absent on a model that only classifies. */
  dir?: string;
  /** On semi-supervised K+1 models: the classifier's absolute folder and the shapes it must have. */
  classifier?: ClassifierSpec;
  /** The network the feature analyses read (an autoencoder's encoder, a GAN's discriminator), when the model has one. */
  features?: FeatureNetworkSpec;
  /**
   * How ONNX Runtime serves its generator and classifier, decided on the main thread when the model
   * loads (prepareOnnx); executors with ONNX Runtime fill it in, and every worker builds its sessions from it.
   */
  onnx?: OnnxPlan;
}

export interface ClassifierSpec {
  /** Absolute folder of the classifier (model.json + weights.bin). */
  dir: string;
  /** [height, width, channels] of its input: the model's imageShape. */
  imageShape: [number, number, number];
  /** K: logits it outputs per image. */
  classes: number;
  /** Pixel range of its input (the manifest's). @default [-1, 1] */
  inputRange?: [number, number];
}

/**
 * The spec of a registry model: its generator and classifier, those the manifest has.
 * `modelsDir` is the root the registry resolves `model.path` against (an absolute path stays as is).
 */
export function modelSpec(model: LoadedModel, modelsDir: string): ModelSpec {
  const folder = path.resolve(modelsDir, model.path);
  const { manifest } = model;
  const generator = generatorOf(manifest);
  const spec: ModelSpec = { id: model.id, ...(generator !== undefined ? { dir: path.resolve(folder, generator.path) } : {}) };
  if (manifest.classifier !== undefined) {
    spec.classifier = {
      dir: path.resolve(folder, manifest.classifier.path),
      imageShape: [...manifest.imageShape],
      classes: manifest.classifier.classes.length,
      inputRange: [...manifest.classifier.inputRange],
    };
  }
  const features = featureNetworkOf(manifest);
  if (features !== undefined) spec.features = { dir: path.resolve(folder, features.path), inputRange: [...features.inputRange] };
  return spec;
}

/** Checks a spec where it enters an executor; errors say what was expected and what came. */
export function checkModelSpec(spec: ModelSpec, where: string): void {
  if (typeof spec.id !== 'string' || spec.id.length === 0) throw new Error(`${where}: expected a non-empty model id, got ${JSON.stringify(spec.id)}`);
  if (spec.dir === undefined && spec.classifier === undefined)
    throw new Error(`${where}: expected a generator or a classifier folder for ${spec.id}, got neither`);
  if (spec.dir !== undefined && !path.isAbsolute(spec.dir)) {
    throw new Error(`${where}: expected an absolute generator folder for ${spec.id}, got ${JSON.stringify(spec.dir)}`);
  }
  const f = spec.features;
  if (f !== undefined) {
    if (!path.isAbsolute(f.dir)) throw new Error(`${where}: expected an absolute feature network folder for ${spec.id}, got ${JSON.stringify(f.dir)}`);
    if (!Array.isArray(f.inputRange) || f.inputRange.length !== 2 || !(f.inputRange[0] < f.inputRange[1])) {
      throw new Error(`${where}: expected the feature network inputRange of ${spec.id} as [low, high] with low < high, got ${JSON.stringify(f.inputRange)}`);
    }
  }
  const c = spec.classifier;
  if (c === undefined) return;
  if (!path.isAbsolute(c.dir)) throw new Error(`${where}: expected an absolute classifier folder for ${spec.id}, got ${JSON.stringify(c.dir)}`);
  if (!Array.isArray(c.imageShape) || c.imageShape.length !== 3 || !c.imageShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(
      `${where}: expected the classifier imageShape of ${spec.id} as [height, width, channels] of positive integers, got ${JSON.stringify(c.imageShape)}`,
    );
  }
  if (!Number.isInteger(c.classes) || c.classes < 2) throw new Error(`${where}: expected at least 2 classifier classes for ${spec.id}, got ${c.classes}`);
}
