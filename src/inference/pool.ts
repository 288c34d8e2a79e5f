// Over 300 lines: one class, the pool's batching state machine (admission, per-pass loaders, executor
// slots); splitting it would spread one invariant over files.
import DataLoader from 'dataloader';
import type { PoolConfig } from '../config/config';
import { ErrorCode } from '../errors/error-code';
import { GanqlError } from '../errors/ganql-error';
import { encodePngs, type PngFormat } from '../images/png';
import type { Executor, StimulusRequest, StimulusResult } from './executor';
import { layerPassKey, removalKey, type FilterRemoval, type LayerPass } from './layer-passes';
import type { ModelSpec } from './model-spec';
import type { ModelServing } from './onnx-sessions';

/** What one batch computed: `n` outputs row-major, and with generateImages one PNG per image. */
interface BatchOutput {
  values: Float32Array;
  pngs?: Buffer[];
}

/** One item's share of a BatchOutput. */
interface ItemOutput {
  values: Float32Array;
  png?: Buffer;
}

/** How one batch of a pass is computed: `batch` holds `n` inputs row-major. */
type BatchRunner = (executor: Executor, modelId: string, batch: Float32Array, n: number) => Promise<BatchOutput>;

/** A generated image: its pixels (image shape, the model's output range) and their PNG. */
export interface GeneratedImage {
  pixels: Float32Array;
  png: Buffer;
}

/** The kinds of work the pool runs, as metrics label them. */
export type PoolPass = 'generate' | 'classify' | 'layer' | 'stimulus';

/** What the pool reports about each batch it dispatches (for metrics). */
export interface BatchEvent {
  modelId: string;
  pass: PoolPass;
  size: number;
  /** Longest time an item of the batch waited in the queue. */
  queueWaitMs: number;
  computeMs: number;
  ok: boolean;
}

export type RequestOutcome = 'ok' | 'overloaded' | 'timeout' | 'error' | 'unavailable';

export interface PoolListener {
  onBatch?(event: BatchEvent): void;
  onRequest?(outcome: RequestOutcome, items: number): void;
}

export interface PoolStats {
  /** Items admitted and not yet finished. */
  queued: number;
  /** Live tensors on the executor's backend(s); flat over requests means no leak. */
  tensors: number;
  batches: number;
  items: number;
  largestBatch: number;
}

interface Item {
  /** A latent (generate) or an image in the classifier's input range (classify). */
  input: Float32Array;
  enqueuedAt: number;
  /** Set when the request gave up (timeout); the batch skips it. */
  abandoned: boolean;
}

const archivedError = (modelId: string): GanqlError =>
  new GanqlError(ErrorCode.NOT_FOUND, `model ${JSON.stringify(modelId)} was archived: it is no longer served`);

const abandonedError = (): GanqlError => new GanqlError(ErrorCode.TIMEOUT, 'request timed out before its batch ran');

/**
 * The shared inference pool: every forward pass in ganql goes through here: generator, K+1
 * classifier, and the layer reads of the feature analyses. Items from all requests for a model and
 * pass (with its settings) are collected by one DataLoader per (pass, model) (cache off) into batches
 * of at most `maxBatchSize`, waiting at most `maxQueueDelayMs` for company, then handed to the
 * executor. Every pass shares the queue limit, the timeout and the
 * executor's slots.
 */
export class InferencePool {
  private readonly loaders = new Map<string, DataLoader<Item, ItemOutput>>();
  private readonly idleWaiters: (() => void)[] = [];
  private queued = 0;
  /** Batches computing now, and batches waiting for the executor to have room. */
  private running = 0;
  private readonly waitingForExecutor: (() => void)[] = [];
  /** Batches still gathering items because every executor slot is busy; dispatched when one frees. */
  private readonly gatheringUntilFree: (() => void)[] = [];
  private closed = false;
  /** Models unloadModel took out of service (until loadModel serves them again): their work is NOT_FOUND. */
  private readonly unloaded = new Set<string>();
  private readonly stats_ = { batches: 0, items: 0, largestBatch: 0 };

  constructor(
    private readonly executor: Executor,
    private readonly options: PoolConfig,
    private readonly listener: PoolListener = {},
  ) {
    for (const [key, value] of Object.entries(options)) {
      if (!Number.isFinite(value) || value < 0) throw new Error(`InferencePool: expected ${key} >= 0, got ${value}`);
    }
    if (options.maxBatchSize < 1) throw new Error(`InferencePool: expected maxBatchSize >= 1, got ${options.maxBatchSize}`);
  }

  get description(): string {
    return this.executor.description;
  }

  stats(): PoolStats {
    return { queued: this.queued, tensors: this.executor.tensorCount(), ...this.stats_ };
  }

  /**
   * Generates one image per latent. All-or-nothing admission: if the queue cannot take every item
   * the request fails with OVERLOADED at once; if it does not finish in time, with TIMEOUT. `engine`
   * (one of enginesOf) computes it instead of the model's default: a stored sample is regenerated on
   * the engine that made it.
   */
  generate(modelId: string, latents: readonly Float32Array[], options: { removeFilters?: FilterRemoval; engine?: string } = {}): Promise<Float32Array[]> {
    const { copy, engine, settings } = this.generateSettings(modelId, options);
    return values(
      this.submit('generate', settings, settings !== undefined, modelId, latents, async (e, id, batch, n) => ({
        values: await e.generate(id, batch, n, copy, engine),
      })),
    );
  }

  /**
   * generate, each image with its PNG in `format`, encoded where the pixels are made (an executor's
   * worker thread; see Executor.generatePngs), so the event loop does not encode. Admitted, batched
   * and timed out as generate.
   */
  generateImages(
    modelId: string,
    latents: readonly Float32Array[],
    format: PngFormat,
    options: { removeFilters?: FilterRemoval; engine?: string } = {},
  ): Promise<GeneratedImage[]> {
    const { copy, engine, settings } = this.generateSettings(modelId, options);
    const own: PngFormat = { ...format, range: [...format.range] };
    const run: BatchRunner = async (e, id, batch, n) => {
      if (e.generatePngs !== undefined) {
        const { pixels, pngs } = await e.generatePngs(id, batch, n, own, copy, engine);
        return { values: pixels, pngs };
      }
      const pixels = await e.generate(id, batch, n, copy, engine);
      return { values: pixels, pngs: encodePngs(pixels, n, own) };
    };
    // Removals are many and user-chosen: those loaders are dropped once dispatched (loaderFor); the plain PNG one stays.
    return this.submit('generate', `png ${settings ?? ''}`, settings !== undefined, modelId, latents, run).then((outputs) =>
      outputs.map(({ values: pixels, png }) => {
        if (png === undefined) throw new Error('InferencePool: expected a PNG for every generated image, got none');
        return { pixels, png };
      }),
    );
  }

  /** generate's removal and engine as a batch key: only latents with the same ones share a batch. */
  private generateSettings(
    modelId: string,
    options: { removeFilters?: FilterRemoval; engine?: string },
  ): { copy?: FilterRemoval; engine?: string; settings?: string } {
    const removal = options.removeFilters === undefined || options.removeFilters.filters.length === 0 ? undefined : options.removeFilters;
    const copy = removal === undefined ? undefined : { layer: removal.layer, filters: [...removal.filters] };
    const engine = options.engine !== undefined && options.engine !== this.engineOf(modelId, 'generate', copy) ? options.engine : undefined;
    const settings = [copy === undefined ? '' : `removing ${removalKey(copy)}`, engine === undefined ? '' : `on ${engine}`].filter((p) => p !== '').join(' ');
    return { copy, engine, settings: settings === '' ? undefined : settings };
  }

  /**
   * Reads a layer (LayerPass): of the feature network for images in its input range (featureMaps:
   * the whole output flattened; neurons: one value per neuron), or of the generator for latents
   * (generatorMeans: each filter's spatial mean). Batched, admitted and timed out as generate.
   */
  layerPass(modelId: string, pass: LayerPass, inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    const copy: LayerPass = { ...pass };
    return values(
      this.submit('layer', layerPassKey(copy), true, modelId, inputs, async (e, id, batch, n) => ({ values: await e.layerPass(id, copy, batch, n) })),
    );
  }

  /** Each image's `layer` output of the feature network, flattened channels last (images in its input range). */
  featureActivations(modelId: string, layer: string, images: readonly Float32Array[]): Promise<Float32Array[]> {
    return this.layerPass(modelId, { kind: 'featureMaps', layer }, images);
  }

  /** Each image's `layer` of the feature network per neuron: a unit, or a feature map's spatial maximum. */
  neuronActivations(modelId: string, layer: string, images: readonly Float32Array[]): Promise<Float32Array[]> {
    return this.layerPass(modelId, { kind: 'neurons', layer }, images);
  }

  /** Each image's dense `layer` of the feature network per unit before its activation (input . kernel + bias). */
  preActivations(modelId: string, layer: string, images: readonly Float32Array[]): Promise<Float32Array[]> {
    return this.layerPass(modelId, { kind: 'preActivations', layer }, images);
  }

  /** Each latent's generator `layer` per filter, averaged over space (a dense layer's units as they are). */
  generatorActivations(modelId: string, layer: string, latents: readonly Float32Array[]): Promise<Float32Array[]> {
    return this.layerPass(modelId, { kind: 'generatorMeans', layer }, latents);
  }

  /** Whether `modelId`'s feature network is loaded (the analyses of its layers are served). */
  hasFeatureNetwork(modelId: string): boolean {
    return this.executor.hasFeatureNetwork(modelId);
  }

  /**
   * Gradient ascent on one neuron of the feature network (Le et al. 2012's optimal stimulus). Not
   * batched: it takes one executor slot like a batch of one, within the queue limit and the timeout.
   */
  async optimalStimulus(modelId: string, request: StimulusRequest): Promise<StimulusResult> {
    this.checkServed(modelId);
    this.admit(1);
    this.queued += 1;
    let abandoned = false;
    const enqueuedAt = performance.now();
    const work = (async () => {
      await this.acquireExecutor();
      const started = performance.now();
      let ok = false;
      try {
        if (abandoned) throw abandonedError();
        const result = await this.executor.optimalStimulus(modelId, request);
        ok = true;
        return result;
      } finally {
        this.releaseExecutor();
        if (!abandoned) this.record({ modelId, pass: 'stimulus', size: 1, queueWaitMs: started - enqueuedAt, computeMs: performance.now() - started, ok });
      }
    })().finally(() => this.itemDone());
    try {
      return await this.withinTimeout(1, work, () => (abandoned = true));
    } finally {
      work.catch(() => undefined);
    }
  }

  /**
   * Runs the K+1 classifier of `modelId` on each image (height*width*channels values in the
   * classifier's input range) and returns each image's K logits. Admitted, batched and timed out
   * as generate.
   */
  classify(modelId: string, images: readonly Float32Array[]): Promise<Float32Array[]> {
    return values(this.submit('classify', undefined, false, modelId, images, async (e, id, batch, n) => ({ values: await e.classify(id, batch, n) })));
  }

  /** The engine that computes `pass` of `modelId` by default (the first of enginesOf). */
  engineOf(modelId: string, pass: 'generate' | 'classify', removal?: FilterRemoval): string {
    return this.executor.enginesOf(modelId, pass, removal)[0];
  }

  /** The engines that can compute `pass` of `modelId`, the default first (see Executor.enginesOf). */
  enginesOf(modelId: string, pass: 'generate' | 'classify', removal?: FilterRemoval): string[] {
    return this.executor.enginesOf(modelId, pass, removal);
  }

  /** What computes each pass of `modelId`, and why not ONNX Runtime where it is tfjs (see Executor.servingOf). */
  servingOf(modelId: string): ModelServing {
    return this.executor.servingOf(modelId);
  }

  /** Whether classify serves `modelId` (its classifier is loaded). */
  hasClassifier(modelId: string): boolean {
    return this.executor.hasClassifier(modelId);
  }

  /**
   * Loads a model version added after start wherever batches run (every worker, and any worker
   * that restarts later); generate and classify serve it once this resolves. Build the spec with
   * modelSpec(loadedModel, modelsDir) after ModelRegistry has loaded the version.
   */
  async loadModel(spec: ModelSpec): Promise<void> {
    if (this.closed) throw new GanqlError(ErrorCode.UNAVAILABLE, 'the server is shutting down; no model is loaded');
    await this.executor.loadModel(spec);
    this.unloaded.delete(spec.id);
  }

  /**
   * Stops serving a model (archiveModel): its new work is NOT_FOUND from now on, batches that were
   * still gathering included, until loadModel serves it again; the executor releases it (see
   * Executor.unloadModel).
   */
  async unloadModel(modelId: string): Promise<void> {
    this.unloaded.add(modelId);
    for (const key of [...this.loaders.keys()]) if (key.endsWith(`\u0000${modelId}`)) this.loaders.delete(key);
    await this.executor.unloadModel(modelId);
  }

  /** Throws NOT_FOUND for a model unloadModel took out of service. */
  private checkServed(modelId: string): void {
    if (this.unloaded.has(modelId)) throw archivedError(modelId);
  }

  /** Throws UNAVAILABLE when closed, OVERLOADED when the queue cannot take `count` more items. */
  private admit(count: number): void {
    if (this.closed) {
      this.listener.onRequest?.('unavailable', count);
      throw new GanqlError(ErrorCode.UNAVAILABLE, 'the server is shutting down; retry on another replica or later');
    }
    if (this.queued + count > this.options.maxQueueSize) {
      this.listener.onRequest?.('overloaded', count);
      throw new GanqlError(
        ErrorCode.OVERLOADED,
        `inference queue full (${this.queued} of ${this.options.maxQueueSize} items waiting, request needs ${count}); retry later`,
      );
    }
  }

  private itemDone(): void {
    this.queued -= 1;
    if (this.queued === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  /**
   * Items of one model, pass and `settings` (a layer, removed filters) may share a batch.
   * `userChosen`: the settings come from requests (layers, removed filters), so their keys are many.
   */
  private async submit(
    pass: PoolPass,
    settings: string | undefined,
    userChosen: boolean,
    modelId: string,
    inputs: readonly Float32Array[],
    run: BatchRunner,
  ): Promise<ItemOutput[]> {
    this.checkServed(modelId);
    this.admit(inputs.length);
    const loader = this.loaderFor(pass, settings, userChosen, modelId, run);
    const now = performance.now();
    const items: Item[] = inputs.map((input) => ({ input, enqueuedAt: now, abandoned: false }));
    this.queued += items.length;
    const finished = items.map((item) => loader.load(item).finally(() => this.itemDone()));
    try {
      return await this.withinTimeout(items.length, Promise.all(finished), () => {
        for (const item of items) item.abandoned = true;
      });
    } finally {
      // Keep unhandled rejections of the remaining items from surfacing after a race was lost.
      for (const f of finished) f.catch(() => undefined);
    }
  }

  /**
   * Waits for a request's `work` (of `count` items) at most requestTimeoutMs: after that it rejects
   * with TIMEOUT and calls `giveUp`, so that work not started yet is skipped. Tells the listener how
   * the request ended.
   */
  private async withinTimeout<T>(count: number, work: Promise<T>, giveUp: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        giveUp();
        reject(new GanqlError(ErrorCode.TIMEOUT, `inference did not finish within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
    });
    try {
      const result = await Promise.race([work, timeout]);
      this.listener.onRequest?.('ok', count);
      return result;
    } catch (error) {
      const code = error instanceof GanqlError ? error.code : undefined;
      this.listener.onRequest?.(code === ErrorCode.TIMEOUT ? 'timeout' : 'error', count);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when no item is waiting or running (p-queue's onIdle). */
  onIdle(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops intake, lets admitted work finish, then closes the executor. */
  async close(): Promise<void> {
    this.closed = true;
    await this.onIdle();
    await this.executor.close();
  }

  private loaderFor(pass: PoolPass, settings: string | undefined, userChosen: boolean, modelId: string, run: BatchRunner): DataLoader<Item, ItemOutput> {
    const key = `${pass} ${settings ?? ''}\u0000${modelId}`;
    let loader = this.loaders.get(key);
    if (!loader) {
      const delay = this.options.maxQueueDelayMs;
      // Keys with user-chosen settings (a layer, removed filters) are many: their loader is dropped
      // once its batch is dispatched, so the map holds only loaders gathering now.
      const ephemeral = userChosen;
      const created: DataLoader<Item, ItemOutput> = new DataLoader<Item, ItemOutput>(
        (items) => {
          if (ephemeral && this.loaders.get(key) === created) this.loaders.delete(key);
          return this.runBatch(pass, run, modelId, items);
        },
        {
          cache: false,
          maxBatchSize: this.options.maxBatchSize,
          // With an executor slot free, wait up to maxQueueDelayMs for company (Triton's dynamic
          // batching). With every slot busy, keep gathering until one frees: items that arrive
          // meanwhile join this batch instead of queueing behind it in batches of their own.
          batchScheduleFn: (callback) => {
            if (this.running < this.executor.concurrency) setTimeout(callback, delay);
            else this.gatheringUntilFree.push(callback);
          },
        },
      );
      loader = created;
      this.loaders.set(key, loader);
    }
    return loader;
  }

  /** One value or one Error per item, in item order (dataloader's batch contract). */
  private async runBatch(pass: PoolPass, run: BatchRunner, modelId: string, items: readonly Item[]): Promise<(ItemOutput | Error)[]> {
    await this.acquireExecutor();
    try {
      // A batch that gathered while its model was archived reaches no executor.
      if (this.unloaded.has(modelId)) return items.map(() => archivedError(modelId));
      // Checked once the executor has room: items whose request gave up meanwhile are skipped.
      const live = items.filter((item) => !item.abandoned);
      if (live.length === 0) return items.map(() => abandonedError());
      const outputs = await this.compute(pass, run, modelId, live);
      if (live.length === items.length) return outputs;
      // An error (and its stack) only for the items that gave up.
      let k = 0;
      return items.map((item) => (item.abandoned ? abandonedError() : outputs[k++]));
    } finally {
      this.releaseExecutor();
    }
  }

  private acquireExecutor(): Promise<void> {
    if (this.running < this.executor.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waitingForExecutor.push(resolve));
  }

  private releaseExecutor(): void {
    const next = this.waitingForExecutor.shift();
    // Hand the slot straight to the next dispatched batch; otherwise free it and dispatch the
    // batches that gathered meanwhile (they take the free slot, or wait for the next).
    if (next) {
      next();
      return;
    }
    this.running -= 1;
    for (const dispatch of this.gatheringUntilFree.splice(0)) dispatch();
  }

  private async compute(pass: PoolPass, run: BatchRunner, modelId: string, items: readonly Item[]): Promise<(ItemOutput | Error)[]> {
    const started = performance.now();
    const queueWaitMs = started - Math.min(...items.map((i) => i.enqueuedAt));
    try {
      // Inside the try: an item of another size fails its batch, and the retry below isolates it.
      const size = items[0].input.length;
      if (items.some((item) => item.input.length !== size))
        throw new Error(`InferencePool: expected items of ${size} values each in one batch, got other sizes`);
      const batch = new Float32Array(items.length * size);
      items.forEach((item, i) => batch.set(item.input, i * size));
      const out = await run(this.executor, modelId, batch, items.length);
      const per = out.values.length / items.length;
      this.record({ modelId, pass, size: items.length, queueWaitMs, computeMs: performance.now() - started, ok: true });
      return items.map((_, i) => ({ values: out.values.slice(i * per, (i + 1) * per), ...(out.pngs !== undefined ? { png: out.pngs[i] } : {}) }));
    } catch (error) {
      this.record({ modelId, pass, size: items.length, queueWaitMs, computeMs: performance.now() - started, ok: false });
      // One bad item must fail only itself: retry one by one to find it.
      if (items.length > 1) return Promise.all(items.map(async (item) => (await this.compute(pass, run, modelId, [item]))[0]));
      return [error instanceof Error ? error : new Error(String(error))];
    }
  }

  private record(event: BatchEvent): void {
    this.stats_.batches += 1;
    this.stats_.items += event.size;
    this.stats_.largestBatch = Math.max(this.stats_.largestBatch, event.size);
    this.listener.onBatch?.(event);
  }
}

/** The values of a pass's outputs (generate, classify and layer passes have no PNGs). */
async function values(outputs: Promise<ItemOutput[]>): Promise<Float32Array[]> {
  return (await outputs).map((o) => o.values);
}
