import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { badInput } from '../errors/ganql-error';
import { loadLayersModel } from './io';
import { generatorOf, readManifest, type ModelManifest } from './manifest';

/** The last part of a weight's name ("kernel", "gamma", "moving_mean", ...). */
function weightKey(w: tf.LayerVariable): string {
  return w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
}

/**
 * Copies `source`'s weights into `target`, matched by name (kernel, gamma, ...), not by position:
 * getWeights() lists trainable weights first, so a frozen weight (the K+1 generator's batchnorm
 * gamma) changes the order between two otherwise equal layers. Throws naming the first mismatch.
 */
export function copyLayerWeights(target: tf.layers.Layer, source: tf.layers.Layer): void {
  const values = target.weights.map((tw) => {
    const match = source.weights.find((sw) => weightKey(sw) === weightKey(tw));
    const got = source.weights.map((w) => `${weightKey(w)} [${w.shape}]`).join(', ');
    if (match === undefined || match.shape.join() !== tw.shape.join()) {
      throw new Error(`layer ${target.name}: expected weights ${target.weights.map((w) => `${weightKey(w)} [${w.shape}]`).join(', ')}, got ${got || 'none'}`);
    }
    return match.read();
  });
  if (values.length > 0) target.setWeights(values);
}

/** Copies the weights of the model saved in `dir` into `model`, layer by layer by name; errors (BAD_USER_INPUT, prefixed `what`) name the first mismatch. */
export async function copyWeights(dir: string, model: tf.LayersModel, what: string): Promise<void> {
  const saved = await loadLayersModel(dir);
  try {
    for (const layer of model.layers) {
      const mine = layer.getWeights();
      if (mine.length === 0) continue;
      const source = saved.layers.find((l) => l.name === layer.name);
      if (source === undefined) throw badInput(`${what}: ${dir}: expected a layer ${layer.name}, got layers ${saved.layers.map((l) => l.name).join(', ')}`);
      try {
        copyLayerWeights(layer, source);
      } catch (err) {
        throw badInput(`${what}: ${dir}: ${(err as Error).message}`);
      }
    }
  } finally {
    saved.dispose();
  }
}

/** What a fine-tuned run builds: the version it starts from must have been built the same. */
export interface FineTuneTarget {
  architecture: string;
  latentSize: number;
  imageShape: readonly [number, number, number];
  /** DCGAN: the filters of G and D at 14x14 (architectureConfig's generatorFilters and discriminatorFilters). */
  filters?: number;
}

/** Starts `generator` and `discriminator` from the weights of the model version in the absolute folder `dir`, which must match `want`. */
export async function loadFineTuneWeights(dir: string, want: FineTuneTarget, generator: tf.LayersModel, discriminator: tf.LayersModel): Promise<void> {
  if (!path.isAbsolute(dir)) throw badInput(`fineTuneFrom: expected an absolute folder, got ${JSON.stringify(dir)}`);
  let manifest: ModelManifest;
  try {
    manifest = readManifest(dir);
  } catch (err) {
    throw badInput(`fineTuneFrom: expected a model version folder with a valid manifest.json, got ${(err as Error).message}`);
  }
  const source = generatorOf(manifest);
  if (source === undefined) throw badInput(`fineTuneFrom: ${dir}: expected a model with a generator, got one without (a classifier trained in supervised mode)`);
  const wanted = `architecture "${want.architecture}", latentSize ${want.latentSize}, imageShape [${want.imageShape}]`;
  const got = `architecture "${manifest.architecture}", latentSize ${manifest.latentSize}, imageShape [${manifest.imageShape}]`;
  if (wanted !== got) throw badInput(`fineTuneFrom: ${dir}: expected ${wanted} as in the spec, got ${got}`);
  if (want.filters !== undefined) {
    const config = manifest.training.architectureConfig;
    const filters = `generatorFilters ${String(config.generatorFilters)}, discriminatorFilters ${String(config.discriminatorFilters)}`;
    if (filters !== `generatorFilters ${want.filters}, discriminatorFilters ${want.filters}`) {
      throw badInput(`fineTuneFrom: ${dir}: expected generatorFilters ${want.filters}, discriminatorFilters ${want.filters} as in the spec (filters), got ${filters}`);
    }
  }
  if (manifest.discriminatorPath === undefined) throw badInput(`fineTuneFrom: ${dir}: expected a discriminatorPath in the manifest, got none`);
  await copyWeights(path.join(dir, source.path), generator, 'fineTuneFrom');
  await copyWeights(path.join(dir, manifest.discriminatorPath), discriminator, 'fineTuneFrom');
}
