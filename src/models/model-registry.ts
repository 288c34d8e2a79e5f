import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Prisma } from '../db/database';
import { badInput, notFound } from '../errors/ganql-error';
import type { Logger } from '../log/logger';
import { featureNetworkOf, loadFeatureNetwork, type FeatureNetwork } from './feature-network';
import { describeLayers, type LayerInfo } from './layer-info';
import { readManifest, type ModelManifest } from './manifest';
import { loadServedGenerator } from './served-generator';

/** A model version loaded into memory and registered in the database. */
export interface LoadedModel {
  /** "<name>@<version>", stable across restarts. */
  id: string;
  manifest: ModelManifest;
  /** Folder of the version, relative to the models root. */
  path: string;
  /** The generator for inference, batchnorm folded (see foldBatchNorm); not for training. */
  generator: tf.LayersModel;
  /** Layers of the served generator that samples' removeFilters and the concept-filter search can name. */
  generatorLayers: LayerInfo[];
  /** The network the feature analyses read, and its layers they can name; absent on models without one. */
  featureNetwork?: FeatureNetwork & { layers: LayerInfo[] };
  createdAt: Date;
}

export function modelId(manifest: Pick<ModelManifest, 'name' | 'version'>): string {
  return `${manifest.name}@${manifest.version}`;
}

/** Every servable model version; the source of truth for what `models` returns. */
export class ModelRegistry {
  private readonly byId: Map<string, LoadedModel>;

  private constructor(
    models: LoadedModel[],
    private readonly defaultId: string | undefined,
    /** The models root the versions' `path` is relative to. */
    readonly root: string,
    private readonly prisma: Prisma,
  ) {
    this.byId = new Map(models.map((m) => [m.id, m]));
  }

  /**
   * Loads every `<root>/<folder>/manifest.json` with its generator and records the versions in the
   * database. A folder that fails to load is logged and skipped; the process serves the rest.
   */
  static async load(root: string, prisma: Prisma, log: Logger, defaultId?: string): Promise<ModelRegistry> {
    if (!existsSync(root)) throw new Error(`models folder ${root} does not exist`);
    const folders = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(path.join(root, e.name, 'manifest.json')))
      .map((e) => e.name)
      .sort();
    const models: LoadedModel[] = [];
    for (const folder of folders) {
      try {
        models.push(await loadVersion(root, folder, prisma, new Set(models.map((m) => m.id))));
        log.info('model loaded', { id: models[models.length - 1].id, folder });
      } catch (error) {
        log.error('model not loaded', { folder, error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (defaultId !== undefined && !models.some((m) => m.id === defaultId)) {
      throw new Error(`GANQL_DEFAULT_MODEL: expected one of ${models.map((m) => m.id).join(', ') || '(no models)'}, got ${JSON.stringify(defaultId)}`);
    }
    return new ModelRegistry(models, defaultId, root, prisma);
  }

  /**
   * Loads one more version while serving (a training job's result): `folder` is a sub-folder of the
   * models root holding a manifest.json, loaded and recorded as `load` does. The version is in the
   * registry once this resolves; the inference pool must still load it (InferencePool.loadModel)
   * before it can be sampled. A duplicate id or a broken folder throws and changes nothing.
   */
  async add(folder: string): Promise<LoadedModel> {
    const relative = path.relative(this.root, path.resolve(this.root, folder));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative) || relative.includes(path.sep)) {
      throw new Error(`ModelRegistry.add: expected a folder directly under ${this.root}, got ${JSON.stringify(folder)}`);
    }
    const model = await loadVersion(this.root, relative, this.prisma, new Set(this.byId.keys()));
    // Checked again after the awaits: two adds of one id may have raced.
    if (this.byId.has(model.id)) {
      model.generator.dispose();
      throw new Error(`duplicate model id ${model.id}`);
    }
    this.byId.set(model.id, model);
    return model;
  }

  /** Versions recorded in the database (by other replicas sharing it) that this registry has not loaded. */
  async unloaded(): Promise<{ id: string; path: string }[]> {
    const rows = await this.prisma.model.findMany({ select: { id: true, path: true }, orderBy: { id: 'asc' } });
    return rows.filter((r) => !this.byId.has(r.id));
  }

  list(): LoadedModel[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /** The model with this id; NOT_FOUND names the ids that exist. */
  get(id: string): LoadedModel {
    const model = this.byId.get(id);
    if (!model) throw notFound('model', id);
    return model;
  }

  /** `id` if given, else the configured default, else the first model. */
  resolve(id: string | undefined | null): LoadedModel {
    if (id !== undefined && id !== null) return this.get(id);
    const fallback = this.defaultId ?? this.list()[0]?.id;
    if (fallback === undefined) throw badInput('modelId: no model is loaded on this server, so one cannot be chosen');
    return this.get(fallback);
  }

  dispose(): void {
    for (const model of this.byId.values()) model.generator.dispose();
    this.byId.clear();
  }
}

/** Loads `<root>/<folder>` (manifest and served generator) and upserts its Model row; `taken` ids are refused before the weights load. */
async function loadVersion(root: string, folder: string, prisma: Prisma, taken: ReadonlySet<string>): Promise<LoadedModel> {
  const dir = path.join(root, folder);
  const manifest = readManifest(dir);
  const id = modelId(manifest);
  if (taken.has(id)) throw new Error(`duplicate model id ${id}`);
  // Served, never trained here: batchnorm folded (same input and output shapes as saved).
  const generator = await loadServedGenerator(path.join(dir, manifest.generatorPath));
  try {
    checkGeneratorShape(generator, manifest, dir);
    const featureNetwork = await describeFeatureNetwork(manifest, dir);
    const [height, width, channels] = manifest.imageShape;
    const createdAt = new Date(manifest.training.finishedAt);
    const fields = {
      name: manifest.name,
      version: manifest.version,
      architecture: manifest.architecture,
      dataset: manifest.dataset,
      latentSize: manifest.latentSize,
      imageHeight: height,
      imageWidth: width,
      imageChannels: channels,
      path: folder,
      manifest: JSON.stringify(manifest),
    };
    const row = await prisma.model.upsert({
      where: { id },
      create: { id, ...fields, createdAt: Number.isNaN(createdAt.getTime()) ? new Date() : createdAt },
      update: fields,
    });
    return { id, manifest, path: folder, generator, generatorLayers: describeLayers(generator, { role: 'generator' }), featureNetwork, createdAt: row.createdAt };
  } catch (error) {
    generator.dispose();
    throw error;
  }
}

/** The manifest's feature network with its layers, read from its saved model (loaded here, then released). */
async function describeFeatureNetwork(manifest: ModelManifest, dir: string): Promise<LoadedModel['featureNetwork']> {
  const network = featureNetworkOf(manifest);
  if (network === undefined) return undefined;
  const loaded = await loadFeatureNetwork({ dir: path.join(dir, network.path), inputRange: network.inputRange });
  try {
    const input = loaded.network.inputs[0]?.shape;
    if (!input || JSON.stringify(input.slice(1)) !== JSON.stringify(manifest.imageShape)) {
      throw new Error(`${dir}: feature network input ${JSON.stringify(input)} does not take imageShape ${JSON.stringify(manifest.imageShape)}`);
    }
    return { ...network, layers: describeLayers(loaded.network, { role: 'features' }) };
  } finally {
    loaded.network.dispose();
  }
}

function checkGeneratorShape(generator: tf.LayersModel, manifest: ModelManifest, dir: string): void {
  const input = generator.inputs[0]?.shape;
  const output = generator.outputs[0]?.shape;
  if (!input || input[1] !== manifest.latentSize) {
    throw new Error(`${dir}: generator input ${JSON.stringify(input)} does not take latentSize ${manifest.latentSize}`);
  }
  if (!output || JSON.stringify(output.slice(1)) !== JSON.stringify(manifest.imageShape)) {
    throw new Error(`${dir}: generator output ${JSON.stringify(output)} does not match imageShape ${JSON.stringify(manifest.imageShape)}`);
  }
}
