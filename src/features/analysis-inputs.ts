import type { TrainingData } from '../data/training-data';
import type { DatasetCache } from '../evaluation/dataset-cache';
import type { SplitName } from '../evaluation/reference-datasets';
import { badInput } from '../errors/ganql-error';
import type { InferencePool } from '../inference/pool';
import type { FeatureNetwork } from '../models/feature-network';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';
import type { LayerInfo } from '../models/layer-info';

/** Largest number of inputs handed to the pool at once: a large analysis must not fill its queue alone. */
export const POOL_CHUNK = 256;

/** Runs `pass` on `inputs` in chunks of POOL_CHUNK, one chunk after the other; outputs in input order. */
export async function inChunks<T>(inputs: readonly T[], pass: (chunk: readonly T[]) => Promise<Float32Array[]>): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < inputs.length; start += POOL_CHUNK) out.push(...(await pass(inputs.slice(start, start + POOL_CHUNK))));
  return out;
}

/** The model's feature network with its listed layers, or bad input naming the models that have one here. */
export function featureNetworkOf(model: LoadedModel, registry: ModelRegistry, pool: InferencePool): FeatureNetwork & { layers: LayerInfo[] } {
  const network = model.featureNetwork;
  if (network !== undefined && pool.hasFeatureNetwork(model.id)) return network;
  const withOne = registry
    .list()
    .filter((m) => m.featureNetwork !== undefined && pool.hasFeatureNetwork(m.id))
    .map((m) => m.id);
  const others = `models with one here: ${withOne.join(', ') || 'none'}`;
  if (network === undefined) {
    throw badInput(
      `modelId: expected a model with a feature network (a GAN discriminator or an autoencoder's encoder), got ${model.id}, which has none; ${others}`,
    );
  }
  throw badInput(`modelId: the feature network of ${model.id} could not be loaded on this server (see the server log); ${others}`);
}

/** The layer named `name` among `layers`, or bad input listing them. */
export function layerNamed(layers: readonly LayerInfo[], name: string, field: string, whose: string): LayerInfo {
  const layer = layers.find((l) => l.name === name);
  if (layer === undefined) {
    const list = layers.map((l) => `${l.name} (${l.className} [${l.outputShape.join(', ')}])`).join(', ');
    throw badInput(`${field}: expected a layer of ${whose}: ${list || 'none'}; got ${JSON.stringify(name)}`);
  }
  return layer;
}

/** Index of `concept` among the dataset's class names, or bad input listing them. */
export function conceptIndex(classes: readonly string[], concept: string, model: LoadedModel): number {
  const index = classes.indexOf(concept);
  if (index < 0) {
    throw badInput(
      `concept: expected one of the classes of ${model.manifest.dataset} (the dataset of ${model.id}): ${classes.map((c) => JSON.stringify(c)).join(', ')}; got ${JSON.stringify(concept)}`,
    );
  }
  return index;
}

/**
 * The labelled splits the analyses read, from the server's DatasetCache: the splits evaluation and
 * nearest neighbours use, loaded once for all of them.
 */
export class AnalysisData {
  constructor(private readonly datasets: DatasetCache) {}

  /** The split of the model's dataset with its class names; bad input when ganql cannot load that dataset. */
  async split(model: LoadedModel, split: SplitName): Promise<TrainingData> {
    const classes = this.classes(model);
    const { images, labels, count, imageShape } = await this.datasets.get(model.manifest.dataset, split);
    return { images, labels, count, shape: imageShape, classes };
  }

  /** The class names of the model's dataset, in label order (nothing is loaded); bad input as split. */
  classes(model: LoadedModel): readonly string[] {
    const dataset = this.datasets.dataset(model.manifest.dataset);
    if (dataset === undefined) {
      throw badInput(
        `modelId: expected a model of a labelled dataset ganql loads (mnist, fashion-mnist), got ${model.id} of ${JSON.stringify(model.manifest.dataset)}`,
      );
    }
    return dataset.classNames;
  }
}

/** Image `i` of a split (a view, not a copy). */
export function imageOf(data: TrainingData, i: number): Float32Array {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  return data.images.subarray(i * size, (i + 1) * size);
}
