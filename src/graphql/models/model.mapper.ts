import type { AliasView } from '../../model-admin/model-admin.service';
import { featureNetworkOf } from '../../models/feature-network';
import type { ModelEntry } from '../../models/model-registry';
import type { ModelEngine as ServedEngine, ModelLineage } from '../../models/model.service';
import { toLayerInfo } from '../features/features.mapper';
import type { Model, ModelAlias, ModelProvenance } from './model.type';

/** A served or archived version as the API shows it; an archived one is not loaded, so its layers are not listed. */
export function toModel(entry: ModelEntry, backend: string, aliases: string[], engines: ServedEngine[]): Model {
  const { id, manifest, createdAt } = entry.model;
  const [height, width, channels] = manifest.imageShape;
  const loaded = entry.served ? entry.model : undefined;
  return {
    id,
    name: manifest.name,
    version: manifest.version,
    architecture: manifest.architecture,
    dataset: manifest.dataset,
    latentSize: manifest.latentSize ?? null,
    imageShape: { height, width, channels },
    backend,
    engines: engines.map((e) => ({ pass: e.pass, engine: e.engine, reason: e.reason ?? null })),
    createdAt,
    trainingCommand: manifest.training.command,
    trainingSeed: manifest.training.seed,
    featureNetworkRole: featureNetworkOf(manifest)?.role ?? null,
    featureLayers: loaded?.featureNetwork ? loaded.featureNetwork.layers.map(toLayerInfo) : null,
    generatorLayers: loaded ? loaded.generatorLayers.map(toLayerInfo) : [],
    aliases,
    archived: !entry.served,
    archivedAt: entry.served ? null : entry.model.archivedAt,
  };
}

/** The manifest's training record and the version's lineage. */
export function toProvenance(entry: ModelEntry, lineage: ModelLineage): ModelProvenance {
  const { manifest, createdAt } = entry.model;
  const t = manifest.training;
  const trainedAt = new Date(t.finishedAt);
  return {
    command: t.command,
    seed: t.seed,
    epochs: t.epochs,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    dataset: manifest.dataset,
    examples: t.examples,
    trainedAt: Number.isNaN(trainedAt.getTime()) ? createdAt : trainedAt,
    durationSeconds: t.durationSeconds,
    backend: t.backend,
    kernels: t.kernels ?? null,
    parentModelId: lineage.parentModelId,
    trainingJobId: lineage.trainingJobId,
  };
}

export function toModelAlias(view: AliasView): ModelAlias {
  return { alias: view.alias, modelId: view.modelId, setBy: view.setBy, setAt: view.setAt };
}
