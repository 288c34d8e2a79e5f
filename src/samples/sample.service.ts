import type { Database, Statement } from '../db/database';
import { badInput, notFound } from '../errors/ganql-error';
import type { PngFormat } from '../images/png';
import { removalKey, type FilterRemoval } from '../inference/layer-passes';
import type { GeneratedImage, InferencePool } from '../inference/pool';
import type { GeneratingModel, LoadedModel, ModelRegistry } from '../models/model-registry';
import type { RunContext } from '../runs/job-runner';
import type { RunService } from '../runs/run.service';
import { createUuidV7Generator } from '../runs/run-id';
import { expectFiniteVector, expectIntInRange } from '../validation/checks';
import { checkedSeed, randomSeed } from '../validation/seed';
import { latentFromBytes, latentToBytes, seededLatents } from './latents';
import { SAMPLE_LIMITS } from './sample.limits';
import { samplePng, SamplePngCache, type SamplePng } from './sample-png.cache';

export interface SampleRequest {
  modelId?: string | null;
  count?: number | null;
  seed?: number | null;
  latents?: number[][] | null;
  /** Generator feature maps to zero (DCGAN's filter removal); recorded in the run, so sample(id) regenerates with it. */
  removeFilters?: FilterRemoval | null;
}

/** One generated image with what regenerates it. */
export interface SampleView {
  id: string;
  modelId: string;
  runId: string;
  index: number;
  latent: Float32Array;
  /** The generator's raw output (image shape, output range), for grids. */
  pixels: Float32Array;
  png: Buffer;
  width: number;
  height: number;
  channels: number;
  /**
   * The engine that made the sample when it was stored ("onnxruntime", "onnxruntime-cuda" or the tfjs
   * backend, Executor.enginesOf): its bytes depend on it. A regeneration runs on it when this server has it.
   */
  backend: string;
  /** Set when this image was regenerated on another engine than `backend`, which this server does not have: that engine. */
  regeneratedOn?: string;
  createdAt: Date;
}

/** The stored fields of a sample that regenerate it. */
interface SampleRow {
  id: string;
  modelId: string;
  runId: string;
  index: number;
  latent: Uint8Array;
  /** The engine that made it. */
  backend: string;
  createdAt: Date;
}

export class SampleService {
  constructor(
    private readonly db: Database,
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly runs: RunService,
    private readonly maxSamples: number,
    /** Every PNG this service encodes goes here, so the image URLs of samples just returned are served without a forward pass. */
    private readonly pngs: SamplePngCache = new SamplePngCache(0),
  ) {}

  /**
   * Sample ids: UUIDv7, in creation order, so each commit adds its samples at the end of the table's
   * key index instead of at random places in it (a random UUID per sample made a commit of 32
   * samples write about 2.4x the time to SQLite once the table held 100,000 samples).
   */
  private readonly newSampleId = createUuidV7Generator();

  /** Regenerations for png() under way, by sample id: concurrent requests for one uncached image share one. */
  private readonly regenerating = new Map<string, Promise<SamplePng>>();

  /** Generates images from a seed or from explicit latents; each is stored by its latent. */
  samples(request: SampleRequest): Promise<SampleView[]> {
    const parameters = { ...request, latents: request.latents ? `${request.latents.length} vectors` : undefined };
    return this.runs.recordFinished({ kind: 'SAMPLE', modelId: request.modelId ?? undefined, parameters }, async (run) => {
      const model = this.registry.resolveGenerating(request.modelId);
      run.setModel(model.id);
      const removal = request.removeFilters ? checkedRemoval(model, request.removeFilters) : undefined;
      const { latents, seed } = this.latentsFor(model, request);
      const { views, store } = await this.generateSamples(model, run.runId, latents, removal);
      return { value: views, result: { seed, sampleIds: views.map((v) => v.id) }, alsoWrite: [store] };
    });
  }

  /**
   * Regenerates a stored sample from its model version and latent, with the filter removal its run
   * recorded, on the engine that made it: the same bytes. When this server does not have that engine,
   * on the one it has, and the view's `regeneratedOn` (and the run's result) says which.
   */
  sample(id: string): Promise<SampleView> {
    return this.runs.recordFinished({ kind: 'REGENERATE', parameters: { sampleId: id } }, async (run) => {
      const row = await this.db.prisma.sample.findUnique({ where: { id } });
      if (!row) throw notFound('sample', id);
      const view = await this.regenerate(row, run);
      return { value: view, result: regenerationResult(id, view) };
    });
  }

  /** The recorded engine when the pool can compute the sample on it, else the one it uses by default. */
  private regenerationEngine(modelId: string, recorded: string, removal: FilterRemoval | undefined): string {
    const engines = this.pool.enginesOf(modelId, 'generate', removal);
    return engines.includes(recorded) ? recorded : engines[0];
  }

  /**
   * The PNG of a stored sample, for its image URL: from memory when this process encoded it lately
   * (`cached`), else regenerated as sample(id) does, recorded as a REGENERATE run with `"image": true`
   * in its parameters. An unknown id is NOT_FOUND and records nothing, since no work was done.
   */
  png(id: string): Promise<SamplePng & { cached: boolean }> {
    const cached = this.pngs.get(id);
    // An archived version's images are not served from memory: regenerating refuses them, as sample(id) does.
    if (cached !== undefined && this.registry.isServed(cached.modelId)) return Promise.resolve({ png: cached.png, etag: cached.etag, cached: true });
    let pending = this.regenerating.get(id);
    if (pending === undefined) {
      pending = this.regeneratePng(id).finally(() => this.regenerating.delete(id));
      this.regenerating.set(id, pending);
    }
    return pending.then((image) => ({ ...image, cached: false }));
  }

  /** PNGs held in memory for png(). */
  pngCacheStats(): { entries: number; bytes: number } {
    return this.pngs.stats();
  }

  private async regeneratePng(id: string): Promise<SamplePng> {
    const row = await this.db.prisma.sample.findUnique({ where: { id } });
    if (!row) throw notFound('sample', id);
    const view = await this.runs.recordFinished({ kind: 'REGENERATE', modelId: row.modelId, parameters: { sampleId: id, image: true } }, async (run) => {
      const regenerated = await this.regenerate(row, run);
      return { value: regenerated, result: regenerationResult(id, regenerated) };
    });
    // view() cached it, unless the cache keeps nothing or has let it go already.
    return this.pngs.get(id) ?? samplePng(view.png);
  }

  /** A stored sample's image made again, on its recorded engine when this server has it (see sample). */
  private async regenerate(row: SampleRow, run: RunContext): Promise<SampleView> {
    const model = this.registry.getGenerating(row.modelId);
    run.setModel(model.id);
    const latent = latentFromBytes(row.latent);
    const removal = (await this.removalsOf([row.runId])).get(row.runId);
    const engine = this.regenerationEngine(model.id, row.backend, removal);
    const [image] = await this.pool.generateImages(model.id, [latent], pngFormatOf(model), { removeFilters: removal, engine });
    return this.view(model, row.id, row.runId, row.index, latent, image, row.backend, row.createdAt, engine);
  }

  /**
   * Regenerates stored samples (of any models) through the pool, in the order named, each on the
   * engine that made it when this server has it (see sample), one pool call per model, removal and
   * engine. An unknown id is bad input naming its field (e.g. "sampleIds[2]").
   */
  async regenerateMany(refs: readonly { id: string; field: string }[]): Promise<SampleView[]> {
    const rows = await this.db.prisma.sample.findMany({ where: { id: { in: [...new Set(refs.map((r) => r.id))] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const found = refs.map(({ id, field }) => {
      const row = byId.get(id);
      if (!row) throw badInput(`${field}: expected the id of a stored sample, got ${JSON.stringify(id)} (no such sample)`);
      return row;
    });
    const removals = await this.removalsOf(found.map((row) => row.runId));
    const groups = new Map<string, { modelId: string; removal?: FilterRemoval; engine: string; positions: number[] }>();
    found.forEach((row, i) => {
      const model = this.registry.getGenerating(row.modelId);
      const removal = removals.get(row.runId);
      const engine = this.regenerationEngine(model.id, row.backend, removal);
      const key = `${row.modelId}\u0000${removal === undefined ? '' : removalKey(removal)}\u0000${engine}`;
      const group = groups.get(key) ?? { modelId: row.modelId, removal, engine, positions: [] };
      group.positions.push(i);
      groups.set(key, group);
    });
    const views = new Array<SampleView>(refs.length);
    await Promise.all(
      [...groups.values()].map(async ({ modelId, removal, engine, positions }) => {
        const model = this.registry.getGenerating(modelId);
        const latents = positions.map((i) => latentFromBytes(found[i].latent));
        const images = await this.pool.generateImages(model.id, latents, pngFormatOf(model), { removeFilters: removal, engine });
        positions.forEach((i, k) => {
          const row = found[i];
          views[i] = this.view(model, row.id, row.runId, row.index, latents[k], images[k], row.backend, row.createdAt, engine);
        });
      }),
    );
    return views;
  }

  /**
   * Generates one image per latent through the shared pool, as samples of `runId`: their views, and
   * the statement that stores them (so that sample(id) regenerates each), for the caller to hand to
   * its run's transaction (RunService.recordFinished's alsoWrite). Used by every operation that returns images.
   */
  async generateSamples(
    model: GeneratingModel,
    runId: string,
    latents: Float32Array[],
    removal?: FilterRemoval,
  ): Promise<{ views: SampleView[]; store: Statement }> {
    const images = await this.pool.generateImages(model.id, latents, pngFormatOf(model), { removeFilters: removal });
    // The engine is part of what the image's bytes depend on (with the model version and the latent): stored with it.
    const engine = this.pool.engineOf(model.id, 'generate', removal);
    const createdAt = new Date();
    const views = images.map((image, index) => this.view(model, this.newSampleId(), runId, index, latents[index], image, engine, createdAt));
    // One multi-row raw INSERT: this runs for every request (see Database.execute).
    const columns = '("id", "modelId", "runId", "index", "latent", "backend", "createdAt")';
    const rows = views.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
    const store = {
      sql: `INSERT INTO "Sample" ${columns} VALUES ${rows}`,
      params: views.flatMap((v) => [v.id, model.id, runId, v.index, latentToBytes(v.latent), v.backend, createdAt]),
    };
    return { views, store };
  }

  /**
   * The stored latents of the named sample ids, in order. An unknown id, or one of another model,
   * is bad input here: the caller named it as an input of an operation on `model`; `field` says where.
   */
  async latentsOf(model: LoadedModel, refs: readonly { id: string; field: string }[]): Promise<Float32Array[]> {
    if (refs.length === 0) return [];
    const ids = [...new Set(refs.map((r) => r.id))];
    const rows = await this.db.prisma.sample.findMany({ where: { id: { in: ids } }, select: { id: true, modelId: true, latent: true } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return refs.map(({ id, field }) => {
      const row = byId.get(id);
      if (!row) throw badInput(`${field}: expected the id of a stored sample, got ${JSON.stringify(id)} (no such sample)`);
      if (row.modelId !== model.id) {
        throw badInput(`${field}: expected a sample of model ${model.id}, got sample ${JSON.stringify(id)} of model ${row.modelId}`);
      }
      return latentFromBytes(row.latent);
    });
  }

  /** The filter removal recorded in each of these runs' parameters (samples(removeFilters)), by run id; runs without one are absent. */
  private async removalsOf(runIds: readonly string[]): Promise<Map<string, FilterRemoval>> {
    const out = new Map<string, FilterRemoval>();
    for (const [id, parameters] of await this.runs.parametersOf(runIds)) {
      const removal = recordedRemoval(parameters);
      if (removal !== undefined) out.set(id, removal);
    }
    return out;
  }

  private latentsFor(model: GeneratingModel, request: SampleRequest): { latents: Float32Array[]; seed?: number } {
    const { latentSize } = model.manifest;
    if (request.latents !== undefined && request.latents !== null) {
      if (request.seed !== undefined && request.seed !== null) {
        throw badInput('seed: expected no seed when latents are given (latents are used as given), got both');
      }
      expectIntInRange('latents (number of vectors)', request.latents.length, SAMPLE_LIMITS.count.min, this.maxSamples);
      if (request.count !== undefined && request.count !== null && request.count !== request.latents.length) {
        throw badInput(`count: expected ${request.latents.length} (the number of latents) or no count, got ${request.count}`);
      }
      return { latents: request.latents.map((z, i) => expectFiniteVector(`latents[${i}]`, z, latentSize)) };
    }
    const count = request.count ?? SAMPLE_LIMITS.count.default;
    expectIntInRange('count', count, SAMPLE_LIMITS.count.min, this.maxSamples);
    const seed = checkedSeed('seed', request.seed ?? randomSeed());
    return { latents: seededLatents(seed, count, latentSize), seed };
  }

  /** `backend`: the engine the sample was made on; `madeOn`: the one that made these pixels, when they are made again. */
  private view(
    model: LoadedModel,
    id: string,
    runId: string,
    index: number,
    latent: Float32Array,
    { pixels, png }: GeneratedImage,
    backend: string,
    createdAt: Date,
    madeOn: string = backend,
  ): SampleView {
    const [height, width, channels] = model.manifest.imageShape;
    this.pngs.put(id, png, model.id);
    const regenerated = madeOn !== backend ? { regeneratedOn: madeOn } : {};
    return { id, modelId: model.id, runId, index, latent, pixels, png, width, height, channels, backend, ...regenerated, createdAt };
  }
}

/** How `model`'s images are encoded: its image shape and output range. */
function pngFormatOf(model: LoadedModel): PngFormat {
  const [height, width, channels] = model.manifest.imageShape;
  if (channels !== 1 && channels !== 3) throw new Error(`model ${model.id}: cannot encode ${channels} channels as PNG`);
  return { width, height, channels, range: model.manifest.outputRange };
}

/** Checks a removal against the model's generator layers: a listed layer, 1..channels distinct filters in range. */
function checkedRemoval(model: LoadedModel, removal: FilterRemoval): FilterRemoval {
  const layer = model.generatorLayers.find((l) => l.name === removal.layer);
  if (layer === undefined) {
    const names = model.generatorLayers.map((l) => `${l.name} (${l.neurons} filters)`).join(', ');
    throw badInput(`removeFilters.layer: expected a layer of the generator of ${model.id}: ${names}; got ${JSON.stringify(removal.layer)}`);
  }
  expectIntInRange('removeFilters.filters (number of filters)', removal.filters.length, 1, layer.neurons);
  removal.filters.forEach((f, i) => expectIntInRange(`removeFilters.filters[${i}]`, f, 0, layer.neurons - 1));
  const repeated = removal.filters.find((f, i) => removal.filters.indexOf(f) !== i);
  if (repeated !== undefined) throw badInput(`removeFilters.filters: expected distinct filters, got ${repeated} twice`);
  return { layer: layer.name, filters: [...removal.filters] };
}

/** The removeFilters of a run's stored parameters, when it has a well-formed one. */
function recordedRemoval(parameters: string): FilterRemoval | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(parameters);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('removeFilters' in parsed)) return undefined;
  const removal = parsed.removeFilters;
  if (typeof removal !== 'object' || removal === null) return undefined;
  const { layer, filters } = removal as { layer?: unknown; filters?: unknown };
  if (typeof layer !== 'string' || !Array.isArray(filters) || !filters.every((f) => Number.isInteger(f))) return undefined;
  return { layer, filters: filters as number[] };
}

/** A REGENERATE run's result: the sample, and the engine that made it again when it is not the one that made it. */
function regenerationResult(sampleId: string, view: SampleView): { sampleId: string; regeneratedOn?: string } {
  return { sampleId, ...(view.regeneratedOn !== undefined ? { regeneratedOn: view.regeneratedOn } : {}) };
}
