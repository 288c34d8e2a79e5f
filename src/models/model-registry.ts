import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Prisma } from '../db/database';
import { badInput, notFound } from '../errors/ganql-error';
import type { Logger } from '../log/logger';
import { featureNetworkOf, loadFeatureNetwork, type FeatureNetwork } from './feature-network';
import { describeLayers, type LayerInfo } from './layer-info';
import { generatorOf, readManifest, type ModelManifest } from './manifest';
import { loadServedGenerator } from './served-generator';

/** A model version loaded into memory and registered in the database. */
export interface LoadedModel {
  /** "<name>@<version>", stable across restarts. */
  id: string;
  manifest: ModelManifest;
  /** Folder of the version, relative to the models root. */
  path: string;
  /** The generator for inference, batchnorm folded (see foldBatchNorm); not for training. Absent on a model that only classifies. */
  generator?: tf.LayersModel;
  /** Layers of the served generator that samples' removeFilters and the concept-filter search can name; none without a generator. */
  generatorLayers: LayerInfo[];
  /** The network the feature analyses read, and its layers they can name; absent on models without one. */
  featureNetwork?: FeatureNetwork & { layers: LayerInfo[] };
  createdAt: Date;
}

export function modelId(manifest: Pick<ModelManifest, 'name' | 'version'>): string {
  return `${manifest.name}@${manifest.version}`;
}

/** A loaded model that generates: its generator is loaded and its manifest names it and its latent size. */
export type GeneratingModel = LoadedModel & {
  generator: tf.LayersModel;
  manifest: ModelManifest & Required<Pick<ModelManifest, 'generatorPath' | 'latentSize'>>;
};

export function generates(model: LoadedModel): model is GeneratingModel {
  return model.generator !== undefined && generatorOf(model.manifest) !== undefined;
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
    // The default is what samples and the latent operations use when no model is named: it must generate.
    const chosen = models.find((m) => m.id === defaultId);
    if (chosen !== undefined && !generates(chosen)) {
      throw new Error(
        `GANQL_DEFAULT_MODEL: expected a model with a generator (${models.filter(generates).map((m) => m.id).join(', ') || 'none loaded'}), got ${chosen.id}, which only classifies`,
      );
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
      model.generator?.dispose();
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

  /**
   * The model with this id for an operation that generates images; BAD_USER_INPUT (naming `field`
   * and the models that do generate) when it has no generator, NOT_FOUND when there is none.
   */
  getGenerating(id: string, field = 'modelId'): GeneratingModel {
    const model = this.get(id);
    if (generates(model)) return model;
    const generating = this.list().filter(generates).map((m) => m.id);
    throw badInput(
      `${field}: expected a model with a generator (${generating.join(', ') || 'none is loaded'}), got ${model.id}, which has no generator ` +
        '(a classifier trained in supervised mode: it serves classify and the feature analyses only)',
    );
  }

  /** For an operation that generates: `id` if given, else the configured default, else the first model with a generator. */
  resolveGenerating(id: string | undefined | null): GeneratingModel {
    if (id !== undefined && id !== null) return this.getGenerating(id);
    const fallback = this.defaultId ?? this.list().find(generates)?.id;
    if (fallback === undefined) throw badInput('modelId: no model with a generator is loaded on this server, so one cannot be chosen');
    return this.getGenerating(fallback);
  }

  dispose(): void {
    for (const model of this.byId.values()) model.generator?.dispose();
    this.byId.clear();
  }
}

/** Loads `<root>/<folder>` (manifest and served generator, if it has one) and upserts its Model row; `taken` ids are refused before the weights load. */
async function loadVersion(root: string, folder: string, prisma: Prisma, taken: ReadonlySet<string>): Promise<LoadedModel> {
  const dir = path.join(root, folder);
  const manifest = readManifest(dir);
  const id = modelId(manifest);
  if (taken.has(id)) throw new Error(`duplicate model id ${id}`);
  const entry = generatorOf(manifest);
  // Served, never trained here: batchnorm folded (same input and output shapes as saved).
  const generator = entry === undefined ? undefined : await loadServedGenerator(path.join(dir, entry.path));
  try {
    if (generator !== undefined && entry !== undefined) checkGeneratorShape(generator, entry.latentSize, manifest, dir);
    const featureNetwork = await describeFeatureNetwork(manifest, dir);
    const [height, width, channels] = manifest.imageShape;
    const createdAt = new Date(manifest.training.finishedAt);
    const fields = {
      name: manifest.name,
      version: manifest.version,
      architecture: manifest.architecture,
      dataset: manifest.dataset,
      // The column is required; a model without a generator has no z, recorded as 0.
      latentSize: entry?.latentSize ?? 0,
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
    return {
      id,
      manifest,
      path: folder,
      ...(generator !== undefined ? { generator } : {}),
      generatorLayers: generator === undefined ? [] : describeLayers(generator, { role: 'generator' }),
      featureNetwork,
      createdAt: row.createdAt,
    };
  } catch (error) {
    generator?.dispose();
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

function checkGeneratorShape(generator: tf.LayersModel, latentSize: number, manifest: ModelManifest, dir: string): void {
  const input = generator.inputs[0]?.shape;
  const output = generator.outputs[0]?.shape;
  if (!input || input[1] !== latentSize) {
    throw new Error(`${dir}: generator input ${JSON.stringify(input)} does not take latentSize ${latentSize}`);
  }
  if (!output || JSON.stringify(output.slice(1)) !== JSON.stringify(manifest.imageShape)) {
    throw new Error(`${dir}: generator output ${JSON.stringify(output)} does not match imageShape ${JSON.stringify(manifest.imageShape)}`);
  }
}
