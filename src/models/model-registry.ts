import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Prisma } from '../db/database';
import { ErrorCode } from '../errors/error-code';
import { badInput, GanqlError, notFound } from '../errors/ganql-error';
import type { Logger } from '../log/logger';
import { featureNetworkOf, loadFeatureNetwork, type FeatureNetwork } from './feature-network';
import { describeLayers, type LayerInfo } from './layer-info';
import { generatorOf, parseManifest, readManifest, type ModelManifest } from './manifest';
import { DEFAULT_ALIAS, isModelId } from './model-state.store';
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


/** A version archived by archiveModel: known (its record, its manifest) but not loaded, and serving no new work. */
export interface ArchivedModel {
  id: string;
  manifest: ModelManifest;
  /** Folder of the version, relative to the models root. */
  path: string;
  createdAt: Date;
  archivedAt: Date;
  /** Who archived it (as recorded), when known. */
  archivedBy: string | null;
}

/** A version as `describe` finds it: served, or archived. */
export type ModelEntry = { served: true; model: LoadedModel } | { served: false; model: ArchivedModel };

/**
 * Every model version this process knows: the servable ones (loaded), the archived ones (records
 * only), and the aliases that name versions. The source of truth for what `models` returns; the
 * aliases and archive marks are the database's (ModelStateStore), kept here for the request path.
 */
export class ModelRegistry {
  private readonly byId: Map<string, LoadedModel>;
  private readonly archived = new Map<string, ArchivedModel>();
  /** Versions add or restore loaded and is preparing (the inference pool loading them): not served yet, their ids taken. */
  private readonly pending = new Map<string, LoadedModel>();
  /** Alias name -> model id, as last read from the database (or set here). */
  private aliases = new Map<string, string>();

  private constructor(
    models: LoadedModel[],
    /** The models root the versions' `path` is relative to. */
    readonly root: string,
    private readonly prisma: Prisma,
  ) {
    this.byId = new Map(models.map((m) => [m.id, m]));
  }

  /**
   * Loads every `<root>/<folder>/manifest.json` with its generator and records the versions in the
   * database; versions the database marks archived are not loaded. A folder that fails to load is
   * logged and skipped; the process serves the rest. `defaultId` (GANQL_DEFAULT_MODEL) must be served.
   */
  static async load(root: string, prisma: Prisma, log: Logger, defaultId?: string): Promise<ModelRegistry> {
    if (!existsSync(root)) throw new Error(`models folder ${root} does not exist`);
    const folders = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(path.join(root, e.name, 'manifest.json')))
      .map((e) => e.name)
      .sort();
    const archivedRows = await prisma.model.findMany({ where: { archivedAt: { not: null } } });
    const archivedIds = new Set(archivedRows.map((r) => r.id));
    const models: LoadedModel[] = [];
    for (const folder of folders) {
      try {
        const id = modelId(readManifest(path.join(root, folder)));
        if (archivedIds.has(id)) {
          log.info('model archived, not loaded', { id, folder });
          continue;
        }
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
    const registry = new ModelRegistry(models, root, prisma);
    for (const row of archivedRows) registry.markArchived(archivedFromRow(row));
    const aliases = await prisma.modelAlias.findMany({ select: { name: true, modelId: true } });
    registry.setAliases(new Map(aliases.map((a) => [a.name, a.modelId])));
    return registry;
  }

  /**
   * Loads one more version while serving (a training job's result): `folder` is a sub-folder of the
   * models root holding a manifest.json, loaded and recorded as `load` does. `prepare` (the inference
   * pool loading it) runs before the version is served: until it resolves, requests do not see it
   * (list, get) and only `loaded` finds it; if it throws, the version is dropped and its generator
   * disposed. A duplicate id (an archived one or one being added included), a broken folder or a
   * failed `prepare` throws and changes nothing.
   */
  async add(folder: string, prepare: (model: LoadedModel) => Promise<void> = async () => undefined): Promise<LoadedModel> {
    const relative = path.relative(this.root, path.resolve(this.root, folder));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative) || relative.includes(path.sep)) {
      throw new Error(`ModelRegistry.add: expected a folder directly under ${this.root}, got ${JSON.stringify(folder)}`);
    }
    const model = await loadVersion(this.root, relative, this.prisma, new Set([...this.byId.keys(), ...this.archived.keys(), ...this.pending.keys()]));
    // Checked again after the awaits: two adds of one id may have raced.
    if (this.byId.has(model.id) || this.archived.has(model.id) || this.pending.has(model.id)) {
      model.generator?.dispose();
      throw new Error(`duplicate model id ${model.id}`);
    }
    await this.prepared(model, prepare);
    this.byId.set(model.id, model);
    return model;
  }

  /** Holds `model` pending while `prepare` runs; disposes of its generator and rethrows if it fails. */
  private async prepared(model: LoadedModel, prepare: (model: LoadedModel) => Promise<void>): Promise<void> {
    this.pending.set(model.id, model);
    try {
      await prepare(model);
    } catch (error) {
      model.generator?.dispose();
      throw error;
    } finally {
      this.pending.delete(model.id);
    }
  }

  /** Versions recorded in the database (by other replicas sharing it) that this registry has not loaded, archived ones left out. */
  async unloaded(): Promise<{ id: string; path: string }[]> {
    const rows = await this.prisma.model.findMany({ where: { archivedAt: null }, select: { id: true, path: true }, orderBy: { id: 'asc' } });
    return rows.filter((r) => !this.byId.has(r.id) && !this.archived.has(r.id));
  }

  /** The served versions. */
  list(): LoadedModel[] {
    return [...this.byId.values()];
  }

  /** The archived versions this process knows of. */
  listArchived(): ArchivedModel[] {
    return [...this.archived.values()];
  }

  /** Served versions. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * A served version, or one add or restore is preparing: for the inference pool, which loads a
   * version before it is served (InProcessExecutor reads its generator here). NOT_FOUND otherwise.
   */
  loaded(id: string): LoadedModel {
    return this.pending.get(id) ?? this.get(id);
  }

  /** The served model with this id; NOT_FOUND for an unknown id, and for an archived one saying so. */
  get(id: string): LoadedModel {
    const model = this.byId.get(id);
    if (model) return model;
    const archived = this.archived.get(id);
    if (archived) {
      throw new GanqlError(
        ErrorCode.NOT_FOUND,
        `model ${JSON.stringify(id)} is archived (${archived.archivedAt.toISOString()}): it serves no new work, regenerating its samples included; ` +
          'its runs, samples and evaluations stay readable, and unarchiveModel serves it again',
      );
    }
    throw notFound('model', id);
  }

  /**
   * The served model a request names: a model id, an alias, or nothing for the `default` alias.
   * NOT_FOUND for an unknown id or alias or an archived version; BAD_USER_INPUT when none is named and no default is set.
   */
  resolve(ref: string | undefined | null): LoadedModel {
    return this.get(this.idOf(ref ?? this.defaultTarget()));
  }

  /** The version the `default` alias names; BAD_USER_INPUT when none is set. */
  private defaultTarget(): string {
    const target = this.aliases.get(DEFAULT_ALIAS);
    if (target === undefined) {
      throw badInput(
        `modelId: expected a model id or alias, got none, and no "${DEFAULT_ALIAS}" alias is set to use instead (GANQL_DEFAULT_MODEL, or setModelAlias(alias: "${DEFAULT_ALIAS}"))`,
      );
    }
    return target;
  }

  /** The version a model id or alias names, served or archived (its card); NOT_FOUND when there is none. */
  describe(ref: string): ModelEntry {
    const id = this.idOf(ref);
    const served = this.byId.get(id);
    if (served) return { served: true, model: served };
    const archived = this.archived.get(id);
    if (archived) return { served: false, model: archived };
    throw notFound('model', id);
  }

  /** The model id `ref` names: itself when it is an id, the alias's target otherwise (NOT_FOUND for an unknown alias). */
  idOf(ref: string): string {
    if (isModelId(ref)) return ref;
    const target = this.aliases.get(ref);
    if (target === undefined) {
      const known = [...this.aliases.keys()].sort();
      throw new GanqlError(
        ErrorCode.NOT_FOUND,
        `model alias ${JSON.stringify(ref)} not found: expected a model id ("<name>@<version>") or one of the aliases ${known.join(', ') || '(none)'}`,
      );
    }
    return target;
  }

  /** Alias name -> model id. */
  aliasTable(): ReadonlyMap<string, string> {
    return this.aliases;
  }

  /** The aliases naming `id`, sorted. */
  aliasesOf(id: string): string[] {
    return [...this.aliases].filter(([, target]) => target === id).map(([name]) => name).sort();
  }

  /** Replaces the alias table (as read from the database, or after a change made here). */
  setAliases(aliases: ReadonlyMap<string, string>): void {
    this.aliases = new Map(aliases);
  }

  /** Whether `id` is served here. */
  isServed(id: string): boolean {
    return this.byId.has(id);
  }

  /** Whether `id` is known here as archived. */
  isArchived(id: string): boolean {
    return this.archived.has(id);
  }

  /**
   * Takes a served version out of service: requests for it are NOT_FOUND from now on. Returns it so
   * the caller can unload it from the inference pool and then dispose of its generator.
   */
  retire(id: string, info: Pick<ArchivedModel, 'archivedAt' | 'archivedBy'>): LoadedModel | undefined {
    const model = this.byId.get(id);
    if (model === undefined) return undefined;
    this.byId.delete(id);
    this.archived.set(id, { id, manifest: model.manifest, path: model.path, createdAt: model.createdAt, ...info });
    return model;
  }

  /** Records a version archived elsewhere (another replica) that this process never loaded. */
  markArchived(model: ArchivedModel): void {
    if (!this.byId.has(model.id)) this.archived.set(model.id, model);
  }

  /**
   * Loads an archived version from its folder again and serves it (after unarchiveModel) once
   * `prepare` (the inference pool loading it) resolves; meanwhile it stays archived to requests.
   * Throws, changing nothing, when its folder does not load or `prepare` fails.
   */
  async restore(id: string, prepare: (model: LoadedModel) => Promise<void> = async () => undefined): Promise<LoadedModel> {
    const archived = this.archived.get(id);
    if (archived === undefined) throw new Error(`ModelRegistry.restore: expected an archived model, got ${JSON.stringify(id)}`);
    if (this.pending.has(id)) throw new Error(`ModelRegistry.restore: ${id} is being loaded already`);
    const model = await loadVersion(this.root, archived.path, this.prisma, new Set(this.byId.keys()));
    if (model.id !== id) {
      model.generator?.dispose();
      throw new Error(`${path.join(this.root, archived.path)}: expected model ${id}, got ${model.id}`);
    }
    await this.prepared(model, prepare);
    this.archived.delete(id);
    this.byId.set(id, model);
    return model;
  }

  /** Forgets an archived version that is no longer archived and could not be loaded here (its folder is missing). */
  forgetArchived(id: string): void {
    this.archived.delete(id);
  }

  /**
   * The served model a model id or alias names, for an operation that generates images; BAD_USER_INPUT
   * (naming `field` and the models that do generate) when it has no generator, NOT_FOUND when there is none.
   */
  getGenerating(ref: string, field = 'modelId'): GeneratingModel {
    const model = this.get(this.idOf(ref));
    if (generates(model)) return model;
    const generating = this.list().filter(generates).map((m) => m.id);
    throw badInput(
      `${field}: expected a model with a generator (${generating.join(', ') || 'none is loaded'}), got ${model.id}, which has no generator ` +
        '(a classifier trained in supervised mode: it serves classify and the feature analyses only)',
    );
  }

  /** For an operation that generates: the model id or alias given, else the `default` alias's version (see resolve). */
  resolveGenerating(ref: string | undefined | null): GeneratingModel {
    return this.getGenerating(ref ?? this.defaultTarget());
  }

  dispose(): void {
    for (const model of [...this.byId.values(), ...this.pending.values()]) model.generator?.dispose();
    this.byId.clear();
    this.pending.clear();
  }
}

/** An archived version from its Model row (its manifest as loaded when it was served). */
export function archivedFromRow(row: { id: string; manifest: string; path: string; createdAt: Date; archivedAt: Date | null; archivedBy: string | null }): ArchivedModel {
  return {
    id: row.id,
    manifest: parseManifest(JSON.parse(row.manifest), `model ${row.id}`),
    path: row.path,
    createdAt: row.createdAt,
    archivedAt: row.archivedAt ?? new Date(),
    archivedBy: row.archivedBy,
  };
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
