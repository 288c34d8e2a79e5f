import path from 'node:path';
import type { BackendName } from '../backend/backend';
import { ErrorCode } from '../errors/error-code';
import { GanqlError } from '../errors/ganql-error';
import { unpackPngs, type PackedPngs } from '../images/packed-pngs';
import type { PngFormat } from '../images/png';
import { workerLaunch, type WorkerLaunch } from '../workers/worker-script';
import type { Executor, StimulusRequest, StimulusResult } from './executor';
import type { FilterRemoval, LayerPass } from './layer-passes';
import { checkModelSpec, type ModelSpec } from './model-spec';
import { prepareOnnx } from './onnx-prepare';
import { enginesOf, generateOnTfjs, modelServing, type ModelServing, type OnnxServing } from './onnx-sessions';
import type { BatchTask } from './served-model';
import type { WorkerSetup } from './worker/messages';
import type { WorkerExecutorOptions } from './worker-executor.options';
import { postJob, sendLoad, sendUnload, startSlot, type Job, type Slot } from './worker-slot';

const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_PIPELINE_DEPTH = 2;
/** A dead worker restarts at once; after a failed restart, the next try waits this long, doubling up to the cap. */
const RESTART_DELAY_MS = 100;
const RESTART_DELAY_CAP_MS = 5_000;

type ResolvedOptions = WorkerExecutorOptions & { backendOrder: readonly BackendName[]; startTimeoutMs: number; pipelineDepth: number };

/**
 * Runs generator and classifier batches on N worker threads, each with its own single-threaded
 * backend and its own copy of each model, so inference leaves the event loop free and uses N cores.
 * A worker computes one batch at a time and holds up to `pipelineDepth` (the next ones waiting in its
 * message queue, so it never waits for this thread between batches); `concurrency` = N x depth, and
 * batches beyond that wait here in order. A
 * worker that dies fails only the batch it held and is restarted with every model loaded so far,
 * those added by loadModel included. Build it with `WorkerExecutor.create`.
 */
export class WorkerExecutor implements Executor {
  readonly description: string;
  readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  /** Models batches may be asked for: those given at start, then each loadModel once every running worker has it. */
  private readonly servable = new Map<string, ModelSpec>();
  /** Ids a loadModel is loading now. */
  private readonly loading = new Set<string>();
  /** What each worker starts with; `models` grows with loadModel, so a restarted worker loads the models added since. */
  private readonly setup: WorkerSetup;
  /** How each worker thread is started (script and Node flags). */
  private readonly launch: WorkerLaunch;
  private nextJobId = 1;
  private nextLoadId = 1;
  /** close() was called: no new batches. */
  private closing = false;
  /** Workers are being terminated: exits are expected, nothing restarts. */
  private terminating = false;
  private readonly drainWaiters: (() => void)[] = [];

  private constructor(private readonly options: ResolvedOptions) {
    this.launch = workerLaunch(path.join(__dirname, 'worker', 'inference.worker'));
    const models = options.models.map(copySpec);
    this.setup = {
      entry: this.launch.entry,
      backendOrder: [...options.backendOrder],
      models,
      optimize: options.optimize ?? true,
      ...(options.onnx !== undefined ? { onnx: { threads: options.onnx.threads, providers: [...options.onnx.providers] } } : {}),
      exitOnBatchSize: options.exitOnBatchSize,
    };
    for (const spec of models) this.servable.set(spec.id, spec);
    this.concurrency = options.workers * options.pipelineDepth;
    const onnx = options.onnx === undefined ? '' : `${options.onnx.engine} ${options.onnx.threads} thread${options.onnx.threads === 1 ? '' : 's'} each, `;
    this.description = `${options.workers} worker thread${options.workers === 1 ? '' : 's'} (${onnx}${options.backendOrder.join(', ')})`;
  }

  /**
   * Starts every worker and resolves once all have loaded their backend and models. With ONNX
   * Runtime, each model's ONNX plan is made first, on this thread (prepareOnnx), unless its spec has one.
   */
  static async create(options: WorkerExecutorOptions): Promise<WorkerExecutor> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`WorkerExecutor: expected workers to be an integer >= 1, got ${options.workers}`);
    }
    if (options.onnx !== undefined && (!Number.isInteger(options.onnx.threads) || options.onnx.threads < 1)) {
      throw new Error(`WorkerExecutor: expected onnx.threads to be an integer >= 1, got ${options.onnx.threads}`);
    }
    const ids = new Set<string>();
    for (const spec of options.models) {
      checkModelSpec(spec, 'WorkerExecutor');
      if (ids.has(spec.id)) throw new Error(`WorkerExecutor: expected each model once, got ${spec.id} twice`);
      ids.add(spec.id);
    }
    const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    if (!(startTimeoutMs > 0)) throw new Error(`WorkerExecutor: expected startTimeoutMs > 0, got ${startTimeoutMs}`);
    const pipelineDepth = options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH;
    if (!Number.isInteger(pipelineDepth) || pipelineDepth < 1) {
      throw new Error(`WorkerExecutor: expected pipelineDepth to be an integer >= 1, got ${pipelineDepth}`);
    }
    const models: ModelSpec[] = [];
    // One model at a time: each check runs forward passes on this thread.
    for (const spec of options.models) models.push(await withOnnxPlan(copySpec(spec), options.onnx));
    const executor = new WorkerExecutor({ ...options, models, backendOrder: options.backendOrder ?? ['wasm'], startTimeoutMs, pipelineDepth });
    const started = Array.from({ length: options.workers }, (_, i) => executor.start(i));
    const results = await Promise.allSettled(started);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await executor.terminateAll();
      throw failure.reason;
    }
    return executor;
  }

  generate(modelId: string, latents: Float32Array, n: number, removal?: FilterRemoval, engine?: string): Promise<Float32Array> {
    if (!this.servable.has(modelId)) return Promise.reject(this.unknownModel(modelId));
    const onTfjs = generateOnTfjs(this.enginesOf(modelId, 'generate', removal), engine, this.tfjsBackend(), modelId);
    if (onTfjs instanceof Error) return Promise.reject(onTfjs);
    return this.submit({ pass: 'generate', removal, ...(onTfjs ? { onTfjs } : {}) }, modelId, latents, n);
  }

  /** generate, each image encoded as a PNG on the worker that computed it. */
  async generatePngs(
    modelId: string,
    latents: Float32Array,
    n: number,
    format: PngFormat,
    removal?: FilterRemoval,
    engine?: string,
  ): Promise<{ pixels: Float32Array; pngs: Buffer[] }> {
    if (!this.servable.has(modelId)) throw this.unknownModel(modelId);
    const onTfjs = generateOnTfjs(this.enginesOf(modelId, 'generate', removal), engine, this.tfjsBackend(), modelId);
    if (onTfjs instanceof Error) throw onTfjs;
    const { output, pngs } = await this.submitBatch({ pass: 'generate', removal, png: { ...format }, ...(onTfjs ? { onTfjs } : {}) }, modelId, latents, n);
    if (pngs === undefined || pngs.ends.length !== n) throw new Error(`WorkerExecutor: expected ${n} PNGs from the worker, got ${pngs?.ends.length ?? 'none'}`);
    return { pixels: output, pngs: unpackPngs(pngs) };
  }

  layerPass(modelId: string, pass: LayerPass, input: Float32Array, n: number): Promise<Float32Array> {
    if (!this.servable.has(modelId)) return Promise.reject(this.unknownModel(modelId));
    if (pass.kind !== 'generatorMeans' && !this.hasFeatureNetwork(modelId)) return Promise.reject(this.noFeatureNetwork(modelId));
    return this.submit({ pass: 'layer', layerPass: pass }, modelId, input, n);
  }

  hasFeatureNetwork(modelId: string): boolean {
    return this.servable.get(modelId)?.features !== undefined;
  }

  optimalStimulus(modelId: string, request: StimulusRequest): Promise<StimulusResult> {
    if (!this.hasFeatureNetwork(modelId)) return Promise.reject(this.noFeatureNetwork(modelId));
    if (this.closing) return Promise.reject(new Error('WorkerExecutor: closed; no new work is taken'));
    return new Promise((resolve, reject) => {
      this.queue.push({ jobId: this.nextJobId++, modelId, n: 1, work: { kind: 'stimulus', request: { ...request }, resolve }, reject });
      this.dispatch();
    });
  }

  private unknownModel(modelId: string): Error {
    return new Error(`WorkerExecutor: expected a model id among ${[...this.servable.keys()].join(', ')}, got ${JSON.stringify(modelId)}`);
  }

  private noFeatureNetwork(modelId: string): Error {
    const withFeatures = [...this.servable.values()].filter((m) => m.features !== undefined).map((m) => m.id);
    return new Error(`WorkerExecutor: expected a model with a feature network among ${withFeatures.join(', ') || '(none)'}, got ${JSON.stringify(modelId)}`);
  }

  classify(modelId: string, images: Float32Array, n: number): Promise<Float32Array> {
    if (!this.hasClassifier(modelId)) {
      const withClassifier = [...this.servable.values()].filter((m) => m.classifier !== undefined).map((m) => m.id);
      return Promise.reject(
        new Error(`WorkerExecutor: expected a model with a classifier among ${withClassifier.join(', ') || '(none)'}, got ${JSON.stringify(modelId)}`),
      );
    }
    return this.submit({ pass: 'classify' }, modelId, images, n);
  }

  hasClassifier(modelId: string): boolean {
    return this.servable.get(modelId)?.classifier !== undefined;
  }

  servingOf(modelId: string): ModelServing {
    const spec = this.servable.get(modelId);
    if (spec === undefined) return {};
    return modelServing({ generator: spec.dir !== undefined, classifier: spec.classifier !== undefined }, spec.onnx, this.tfjsBackend(), this.options.onnx);
  }

  enginesOf(modelId: string, pass: 'generate' | 'classify', removal?: FilterRemoval): string[] {
    return enginesOf(this.servingOf(modelId), pass, this.tfjsBackend(), removal);
  }

  /** The tfjs backend the workers run: the one they reported, or the first they were asked to try. */
  private tfjsBackend(): string {
    return this.slots.find((s) => s?.backend !== undefined)?.backend ?? this.options.backendOrder[0];
  }

  /**
   * Loads a model version added after start on every running worker, and resolves once all have it;
   * workers starting now or restarting later load it with the rest. If a worker cannot load it, the
   * load is undone everywhere and the promise rejects with that worker's reason.
   */
  async loadModel(spec: ModelSpec): Promise<void> {
    checkModelSpec(spec, 'WorkerExecutor.loadModel');
    if (this.closing) throw new Error('WorkerExecutor: closed; no models are loaded');
    if (this.servable.has(spec.id) || this.loading.has(spec.id)) {
      throw new Error(`WorkerExecutor.loadModel: expected a model not loaded yet, got ${spec.id} again`);
    }
    this.loading.add(spec.id);
    let copy: ModelSpec;
    try {
      copy = await withOnnxPlan(copySpec(spec), this.options.onnx);
    } catch (error) {
      this.loading.delete(spec.id);
      throw error;
    }
    // From here on, a worker that starts loads it with the rest (workerData is copied at start).
    this.setup.models.push(copy);
    try {
      // Settled, not raced: a rollback must see every worker that did load it.
      // A worker still holding it (unloaded while it computed a batch of it, then loaded again) keeps its copy.
      const running = this.slots.filter((s) => s !== undefined && (s.state.kind === 'idle' || s.state.kind === 'busy') && !s.models.has(copy.id));
      const failure = (await Promise.allSettled(running.map((s) => this.sendLoad(s, copy)))).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure !== undefined) {
        this.setup.models.splice(this.setup.models.indexOf(copy), 1);
        for (const slot of this.slots) if (slot !== undefined && slot.models.has(copy.id)) sendUnload(slot, copy.id);
        throw failure.reason;
      }
      this.servable.set(copy.id, copy);
    } finally {
      this.loading.delete(copy.id);
    }
  }

  /**
   * Stops serving a model: batches of it still queued fail, no new one is taken, and each worker
   * drops it once it is not computing one of it (dispatch), a worker computing one right after that
   * batch. Workers that start later do not load it.
   */
  async unloadModel(modelId: string): Promise<void> {
    const spec = this.servable.get(modelId);
    if (spec === undefined) return;
    this.servable.delete(modelId);
    this.setup.models.splice(this.setup.models.indexOf(spec), 1);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].modelId === modelId) {
        this.queue
          .splice(i, 1)[0]
          .reject(new GanqlError(ErrorCode.NOT_FOUND, `model ${JSON.stringify(modelId)} was archived while this request waited for it`));
      }
    }
    this.dispatch();
  }

  /** Lets queued and in-flight batches finish, then terminates every worker. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.idle()) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await this.terminateAll();
  }

  private submit(task: BatchTask, modelId: string, input: Float32Array, n: number): Promise<Float32Array> {
    return this.submitBatch(task, modelId, input, n).then(({ output }) => output);
  }

  /** A batch job; `pngs` when the task asks for them (BatchTask.png). */
  private submitBatch(task: BatchTask, modelId: string, input: Float32Array, n: number): Promise<{ output: Float32Array; pngs?: PackedPngs }> {
    if (this.closing) return Promise.reject(new Error('WorkerExecutor: closed; no new batches are taken'));
    return new Promise((resolve, reject) => {
      const work = { kind: 'batch' as const, task, input, resolve: (output: Float32Array, pngs?: PackedPngs) => resolve({ output, pngs }) };
      this.queue.push({ jobId: this.nextJobId++, modelId, n, work, reject });
      this.dispatch();
    });
  }

  /** Starts (or restarts) the worker of slot `index`; resolves when it is ready. */
  private start(index: number): Promise<void> {
    const { slot, ready } = startSlot(index, this.launch, this.setup, this.options.startTimeoutMs, {
      onReady: (s) => {
        this.reconcile(s);
        this.dispatch();
      },
      onJobDone: () => this.dispatch(),
      onExit: (s, code) => this.onExit(s, code),
    });
    this.slots[index] = slot;
    return ready;
  }

  /**
   * A worker that started before a loadModel (or before one was undone) catches up: it loads what
   * was added since and drops what was taken back. Until then, batches for those go to other workers.
   */
  private reconcile(slot: Slot): void {
    const wanted = new Set(this.setup.models.map((m) => m.id));
    for (const id of slot.models) if (!wanted.has(id)) sendUnload(slot, id);
    for (const spec of this.setup.models) {
      if (slot.models.has(spec.id)) continue;
      this.sendLoad(slot, spec).catch((error: Error) => {
        if (this.terminating) return;
        this.options.onEvent?.({ type: 'loadFailed', worker: slot.index, modelId: spec.id, message: error.message });
        // With no running worker holding the model, its waiting batches fail now rather than wait for one that may never come.
        if (!this.slots.some((s) => (s.state.kind === 'idle' || s.state.kind === 'busy') && s.models.has(spec.id))) {
          for (let i = this.queue.length - 1; i >= 0; i--) {
            if (this.queue[i].modelId === spec.id) this.queue.splice(i, 1)[0].reject(new Error(`no inference worker holds ${spec.id}: ${error.message}`));
          }
          this.notifyIfDrained();
        }
      });
    }
  }

  /** Asks one worker to load `spec`; resolves when it has, or when it died meanwhile (its successor loads it at start). */
  private sendLoad(slot: Slot, spec: ModelSpec): Promise<void> {
    return sendLoad(slot, spec, this.nextLoadId++, () => this.dispatch());
  }

  /** A running worker died: fail the batch it held, then restart it unless we are shutting down. */
  private onExit(slot: Slot, code: number): void {
    if (this.slots[slot.index] !== slot) return;
    const state = slot.state;
    slot.state = { kind: 'stopped' };
    const reason = slot.lastError !== undefined ? `crashed (${slot.lastError})` : `exited with code ${code}`;
    const lostBatch = state.kind === 'busy';
    if (state.kind === 'busy') {
      const [computing, ...waiting] = state.jobs;
      computing.reject(new Error(`inference worker ${slot.index} ${reason} while computing a batch of ${computing.n} for ${computing.modelId}`));
      // Jobs queued behind it in the dead worker had not started: they go back to the front of the queue, in order.
      this.queue.unshift(...waiting);
    }
    // Other workers take those now.
    this.dispatch();
    // Its loads are not lost: the restarted worker loads every model of the setup at start.
    for (const load of slot.loads.values()) load.resolve();
    slot.loads.clear();
    if (this.terminating) return;
    this.options.onEvent?.({ type: 'exited', worker: slot.index, code, reason, lostBatch });
    this.restart(slot.index, RESTART_DELAY_MS);
    this.notifyIfDrained();
  }

  /** Starts slot `index` again at once; if that fails, retries after `retryInMs`, doubling up to a cap. */
  private restart(index: number, retryInMs: number): void {
    this.start(index).then(
      () => this.options.onEvent?.({ type: 'restarted', worker: index }),
      (error: Error) => {
        if (this.terminating) return;
        this.options.onEvent?.({ type: 'restartFailed', worker: index, message: error.message, retryInMs });
        // With no worker left to run them, waiting batches fail now rather than wait for a restart that may never work.
        if (!this.slots.some((s) => s.state.kind === 'idle' || s.state.kind === 'busy')) {
          for (const job of this.queue.splice(0)) job.reject(new Error(`no inference worker is running: ${error.message}`));
          this.notifyIfDrained();
        }
        setTimeout(() => {
          if (!this.terminating) this.restart(index, Math.min(retryInMs * 2, RESTART_DELAY_CAP_MS));
        }, retryInMs).unref();
      },
    );
  }

  tensorCount(): number {
    return this.slots.reduce((sum, slot) => sum + (slot?.numTensors ?? 0), 0);
  }

  /**
   * Hands queued jobs to workers holding their model, oldest first: to idle workers first, then
   * behind a busy worker's batches up to pipelineDepth (batches only: a stimulus search neither
   * waits behind a job nor holds one up). Idle workers drop the models no longer served.
   */
  private dispatch(): void {
    if (this.queue.length > 0 || this.slots.some((s) => s?.state.kind === 'idle')) {
      const wanted = new Set(this.setup.models.map((m) => m.id));
      for (const slot of this.slots) {
        if (slot === undefined || slot.state.kind !== 'idle') continue;
        // A model unloaded while this worker computed one of its batches: dropped now that the batch is done.
        for (const id of slot.models) if (!wanted.has(id) && !this.loading.has(id)) sendUnload(slot, id);
        this.handOne(slot, false);
      }
      for (let depth = 1; depth < this.options.pipelineDepth && this.queue.length > 0; depth++) {
        for (const slot of this.slots) if (slot?.state.kind === 'busy' && slot.state.jobs.length === depth) this.handOne(slot, true);
      }
    }
    this.notifyIfDrained();
  }

  /** Gives `slot` the oldest queued job of a model it holds (a batch only when `behind` its other jobs). */
  private handOne(slot: Slot, behind: boolean): void {
    const state = slot.state;
    if (behind && (state.kind !== 'busy' || state.jobs.some((j) => j.work.kind !== 'batch'))) return;
    const at = this.queue.findIndex((job) => slot.models.has(job.modelId) && (!behind || job.work.kind === 'batch'));
    if (at < 0) return;
    const [job] = this.queue.splice(at, 1);
    if (state.kind === 'busy') state.jobs.push(job);
    else slot.state = { kind: 'busy', jobs: [job] };
    try {
      postJob(slot, job, behind);
    } catch (error) {
      // The message could not be cloned (a caller reused an input it handed over): this job fails, the worker stays.
      const jobs = slot.state.kind === 'busy' ? slot.state.jobs : [];
      jobs.splice(jobs.indexOf(job), 1);
      if (jobs.length === 0) slot.state = { kind: 'idle' };
      job.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.slots.every((s) => s === undefined || s.state.kind !== 'busy');
  }

  private notifyIfDrained(): void {
    if (this.closing && this.idle()) this.drainWaiters.splice(0).forEach((resolve) => resolve());
  }

  private async terminateAll(): Promise<void> {
    this.terminating = true;
    await Promise.all(this.slots.filter((s) => s !== undefined).map((s) => s.worker.terminate()));
  }
}

/** A deep copy (but for an ONNX plan's bytes, which nothing changes), so a caller changing its spec later changes nothing here. */
function copySpec(spec: ModelSpec): ModelSpec {
  const { id, dir, classifier, features, onnx } = spec;
  const copy: ModelSpec = { id, ...(dir !== undefined ? { dir } : {}) };
  if (classifier !== undefined) {
    const { inputRange } = classifier;
    copy.classifier = {
      dir: classifier.dir,
      imageShape: [...classifier.imageShape],
      classes: classifier.classes,
      ...(inputRange ? { inputRange: [...inputRange] } : {}),
    };
  }
  if (features !== undefined) copy.features = { dir: features.dir, inputRange: [...features.inputRange] };
  if (onnx !== undefined) copy.onnx = { ...onnx };
  return copy;
}

/** The spec with its ONNX plan, made now when ONNX Runtime serves and the spec has none. */
async function withOnnxPlan(spec: ModelSpec, onnx: OnnxServing | undefined): Promise<ModelSpec> {
  if (onnx === undefined || spec.onnx !== undefined) return spec;
  return { ...spec, onnx: await prepareOnnx(spec, onnx) };
}
