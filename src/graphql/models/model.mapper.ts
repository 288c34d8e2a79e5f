import type { LoadedModel } from '../../models/model-registry';
import { toLayerInfo } from '../features/features.mapper';
import type { Model } from './model.type';

export function toModel(loaded: LoadedModel, backend: string): Model {
  const [height, width, channels] = loaded.manifest.imageShape;
  return {
    id: loaded.id,
    name: loaded.manifest.name,
    version: loaded.manifest.version,
    architecture: loaded.manifest.architecture,
    dataset: loaded.manifest.dataset,
    latentSize: loaded.manifest.latentSize ?? null,
    imageShape: { height, width, channels },
    backend,
    createdAt: loaded.createdAt,
    trainingCommand: loaded.manifest.training.command,
    trainingSeed: loaded.manifest.training.seed,
    featureNetworkRole: loaded.featureNetwork?.role ?? null,
    featureLayers: loaded.featureNetwork ? loaded.featureNetwork.layers.map(toLayerInfo) : null,
    generatorLayers: loaded.generatorLayers.map(toLayerInfo),
  };
}
