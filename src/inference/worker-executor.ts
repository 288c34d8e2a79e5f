import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend/backend';
import { workerScript } from '../workers/worker-script';
import { UnreachableCaseError } from '../errors/unreachable';
import type { Executor, StimulusRequest, StimulusResult } from './executor';
import type { FilterRemoval, LayerPass } from './layer-passes';
import { checkModelSpec, type ModelSpec } from './model-spec';
import type { BatchTask } from './served-model';
import type { BatchRequest, LoadRequest, StimulusJobRequest, UnloadRequest, WorkerReply, WorkerSetup } from './worker/messages';

export interface WorkerExecutorOptions {
  /** Worker threads, each with its own backend and its own copy of every model; at least 1. */
  workers: number;
  /**
   * Models every worker loads at start: id, absolute folder of the generator (model.json +
   * weights.bin) and, on K+1 models, the classifier. May be empty: loadModel adds models later.
   */
  models: readonly ModelSpec[];
  /** Backends each worker tries, in order. @default ['wasm'] (single-threaded, so workers add up) */
  backendOrder?: readonly BackendName[];
  /**
   * ganql's custom wasm kernels and batchnorm folding in each worker; false runs tfjs's own kernels
   * on the model as saved, to measure what they bring (bench/executors.ts). @default true
   */
  optimize?: boolean;
  /** Longest a worker may take to load its backend and models. @default 60000 ms */
  startTimeoutMs?: number;
  /** Told about crashes and restarts (the executor itself never logs). */
  onEvent?: (event: WorkerEvent) => void;
  /** Test hook: a worker exits, as on a crash, when handed a batch of exactly this size. */
  exitOnBatchSize?: number;
}

export type WorkerEvent =
  | { type: 'exited'; worker: number; code: number; reason: string; lostBatch: boolean }
  | { type: 'restarted'; worker: number }
  | { type: 'restartFailed'; worker: number; message: string; retryInMs: number }
  /** A worker that started before a model was added could not load it afterwards; other workers serve it. */
  | { type: 'loadFailed'; worker: number; modelId: string; message: string };

/** What a worker computes for a job: a batch (answered with its output) or an optimal-stimulus search. */
type JobWork =
  | { kind: 'batch'; task: BatchTask; input: Float32Array; resolve: (output: Float32Array) => void }
  | { kind: 'stimulus'; request: StimulusRequest; resolve: (result: StimulusResult) => void };

interface Job {
  jobId: number;
  modelId: string;
  /** Items in the job (1 for a stimulus search). */
  n: number;
  work: JobWork;
  reject: (error: Error) => void;
}

/** A worker slot's state; a slot keeps its index across restarts. */
type SlotState = { kind: 'starting' } | { kind: 'idle' } | { kind: 'busy'; job: Job } | { kind: 'stopped' };

interface Slot {
  index: number;
  worker: Worker;
  state: SlotState;
  /** Last uncaught error of the worker, reported when it exits. */
  lastError?: string;
  /** Live tensors in the worker after its last batch (see Executor.tensorCount). */
  numTensors: number;
  /** Models the worker holds (as it reported when ready, then as loads finish); batches go only to a worker holding their model. */
  models: Set<string>;
  /** Loads sent to the worker and not answered yet, by load id. */
  loads: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
/** A dead worker restarts at once; after a failed restart, the next try waits this long, doubling up to the cap. */
const RESTART_DELAY_MS = 100;
const RESTART_DELAY_CAP_MS = 5_000;

type ResolvedOptions = WorkerExecutorOptions & { backendOrder: readonly BackendName[]; startTimeoutMs: number };

/**
 * Runs generator and classifier batches on N worker threads, each with its own single-threaded
 * backend and its own copy of each model, so inference leaves the event loop free and uses N cores.
 * One batch per worker at a time (`concurrency` = N); batches beyond that wait here in order. A
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
  private readonly script: string;
  private nextJobId = 1;
  private nextLoadId = 1;
  /** close() was called: no new batches. */
  private closing = false;
  /** Workers are being terminated: exits are expected, nothing restarts. */
  private terminating = false;
  private readonly drainWaiters: (() => void)[] = [];

  private constructor(private readonly options: ResolvedOptions) {
    const { script, entry } = workerScript(path.join(__dirname, 'worker', 'inference.worker'));
    this.script = script;
    const models = options.models.map(copySpec);
    this.setup = {
      entry,
      backendOrder: [...options.backendOrder],
      models,
      optimize: options.optimize ?? true,
      exitOnBatchSize: options.exitOnBatchSize,
    };
    for (const spec of models) this.servable.set(spec.id, spec);
    this.concurrency = options.workers;
    this.description = `${options.workers} worker thread${options.workers === 1 ? '' : 's'} (${options.backendOrder.join(', ')})`;
  }

  /** Starts every worker and resolves once all have loaded their backend and models. */
  static async create(options: WorkerExecutorOptions): Promise<WorkerExecutor> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`WorkerExecutor: expected workers to be an integer >= 1, got ${options.workers}`);
    }
    const ids = new Set<string>();
    for (const spec of options.models) {
      checkModelSpec(spec, 'WorkerExecutor');
      if (ids.has(spec.id)) throw new Error(`WorkerExecutor: expected each model once, got ${spec.id} twice`);
      ids.add(spec.id);
    }
    const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    if (!(startTimeoutMs > 0)) throw new Error(`WorkerExecutor: expected startTimeoutMs > 0, got ${startTimeoutMs}`);
    const executor = new WorkerExecutor({ ...options, backendOrder: options.backendOrder ?? ['wasm'], startTimeoutMs });
    const started = Array.from({ length: options.workers }, (_, i) => executor.start(i));
    const results = await Promise.allSettled(started);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await executor.terminateAll();
      throw failure.reason;
    }
    return executor;
  }

  generate(modelId: string, latents: Float32Array, n: number, removal?: FilterRemoval): Promise<Float32Array> {
    if (!this.servable.has(modelId)) return Promise.reject(this.unknownModel(modelId));
    return this.submit({ pass: 'generate', removal }, modelId, latents, n);
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
    const copy = copySpec(spec);
    this.loading.add(copy.id);
    // From here on, a worker that starts loads it with the rest (workerData is copied at start).
    this.setup.models.push(copy);
    try {
      // Settled, not raced: a rollback must see every worker that did load it.
      const running = this.slots.filter((s) => s !== undefined && (s.state.kind === 'idle' || s.state.kind === 'busy'));
      const failure = (await Promise.allSettled(running.map((s) => this.sendLoad(s, copy)))).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure !== undefined) {
        this.setup.models.splice(this.setup.models.indexOf(copy), 1);
        for (const slot of this.slots) if (slot !== undefined && slot.models.has(copy.id)) this.sendUnload(slot, copy.id);
        throw failure.reason;
      }
      this.servable.set(copy.id, copy);
    } finally {
      this.loading.delete(copy.id);
    }
  }

  /** Lets queued and in-flight batches finish, then terminates every worker. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.idle()) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await this.terminateAll();
  }

  private submit(task: BatchTask, modelId: string, input: Float32Array, n: number): Promise<Float32Array> {
    if (this.closing) return Promise.reject(new Error('WorkerExecutor: closed; no new batches are taken'));
    return new Promise((resolve, reject) => {
      this.queue.push({ jobId: this.nextJobId++, modelId, n, work: { kind: 'batch', task, input, resolve }, reject });
      this.dispatch();
    });
  }

  /** Starts (or restarts) the worker of slot `index`; resolves when it is ready. */
  private start(index: number): Promise<void> {
    const worker = new Worker(this.script, {
      workerData: this.setup,
      // Not the parent's flags: tsx's loader flags, for one, do not belong in a worker.
      execArgv: [],
    });
    const slot: Slot = { index, worker, state: { kind: 'starting' }, numTensors: 0, models: new Set(), loads: new Map() };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) {
          slot.state = { kind: 'idle' };
          resolve();
          this.reconcile(slot);
          this.dispatch();
        } else {
          slot.state = { kind: 'stopped' };
          reject(new Error(`inference worker ${index} failed to start: ${error}`));
          void worker.terminate();
        }
      };
      const timer = setTimeout(() => settle(`did not start within ${this.options.startTimeoutMs} ms`), this.options.startTimeoutMs);
      worker.on('message', (message: WorkerReply) => {
        if (message.type === 'ready') {
          slot.numTensors = message.numTensors;
          slot.models = new Set(message.models);
          settle();
        } else if (message.type === 'startFailed') settle(message.message);
        else this.onReply(slot, message);
      });
      worker.on('error', (error: Error) => {
        slot.lastError = error.message;
      });
      worker.on('exit', (code: number) => {
        if (!settled) settle(slot.lastError ?? `exited with code ${code}`);
        else this.onExit(slot, code);
      });
    });
  }

  /**
   * A worker that started before a loadModel (or before one was undone) catches up: it loads what
   * was added since and drops what was taken back. Until then, batches for those go to other workers.
   */
  private reconcile(slot: Slot): void {
    const wanted = new Set(this.setup.models.map((m) => m.id));
    for (const id of slot.models) if (!wanted.has(id)) this.sendUnload(slot, id);
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
    const loadId = this.nextLoadId++;
    return new Promise<void>((resolve, reject) => {
      slot.loads.set(loadId, {
        resolve: () => {
          slot.models.add(spec.id);
          resolve();
          this.dispatch();
        },
        reject,
      });
      const request: LoadRequest = { type: 'load', loadId, model: spec };
      slot.worker.postMessage(request);
    });
  }

  private sendUnload(slot: Slot, modelId: string): void {
    slot.models.delete(modelId);
    const request: UnloadRequest = { type: 'unload', modelId };
    slot.worker.postMessage(request);
  }

  private onReply(slot: Slot, message: WorkerReply): void {
    switch (message.type) {
      case 'result':
      case 'stimulus':
      case 'failed': {
        const state = slot.state;
        if (state.kind !== 'busy' || state.job.jobId !== message.jobId) return;
        slot.state = { kind: 'idle' };
        const { work } = state.job;
        if (message.type === 'failed') state.job.reject(new Error(message.message));
        else if (message.type === 'result' && work.kind === 'batch') work.resolve(message.output);
        else if (message.type === 'stimulus' && work.kind === 'stimulus') {
          const { image, activation, trace, preActivation } = message;
          work.resolve({ image, activation, trace, ...(preActivation !== undefined ? { preActivation } : {}) });
        } else state.job.reject(new Error(`inference worker ${slot.index} answered a ${work.kind} job with a ${message.type} reply`));
        if (message.type !== 'failed') slot.numTensors = message.numTensors;
        this.dispatch();
        return;
      }
      case 'loaded':
      case 'loadFailed': {
        const load = slot.loads.get(message.loadId);
        if (load === undefined) return;
        slot.loads.delete(message.loadId);
        if (message.type === 'loaded') {
          slot.numTensors = message.numTensors;
          load.resolve();
        } else {
          load.reject(new Error(`inference worker ${slot.index} could not load the model: ${message.message}`));
        }
        return;
      }
      case 'unloaded':
        slot.numTensors = message.numTensors;
        return;
      case 'ready':
      case 'startFailed':
        // Handled while starting; a worker sends each once.
        return;
      default:
        throw new UnreachableCaseError(message);
    }
  }

  /** A running worker died: fail the batch it held, then restart it unless we are shutting down. */
  private onExit(slot: Slot, code: number): void {
    if (this.slots[slot.index] !== slot) return;
    const state = slot.state;
    slot.state = { kind: 'stopped' };
    const reason = slot.lastError !== undefined ? `crashed (${slot.lastError})` : `exited with code ${code}`;
    const lostBatch = state.kind === 'busy';
    if (state.kind === 'busy') {
      state.job.reject(new Error(`inference worker ${slot.index} ${reason} while computing a batch of ${state.job.n} for ${state.job.modelId}`));
    }
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

  /** Hands queued batches to idle workers holding their model, oldest first. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot === undefined || slot.state.kind !== 'idle') continue;
      const at = this.queue.findIndex((job) => slot.models.has(job.modelId));
      if (at < 0) continue;
      const [job] = this.queue.splice(at, 1);
      slot.state = { kind: 'busy', job };
      const { work } = job;
      if (work.kind === 'stimulus') {
        const request: StimulusJobRequest = { type: 'stimulus', jobId: job.jobId, modelId: job.modelId, request: work.request };
        slot.worker.postMessage(request);
        continue;
      }
      const { input, task } = work;
      const request: BatchRequest = { type: 'batch', jobId: job.jobId, modelId: job.modelId, input, n: job.n, ...task };
      // The input's buffer moves to the worker when the array spans it (see Executor.generate).
      const owns = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
      slot.worker.postMessage(request, owns ? [input.buffer] : []);
    }
    this.notifyIfDrained();
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

/** A deep copy, so a caller changing its spec later changes nothing here. */
function copySpec(spec: ModelSpec): ModelSpec {
  const { id, dir, classifier, features } = spec;
  const copy: ModelSpec = { id, dir };
  if (classifier !== undefined) copy.classifier = { dir: classifier.dir, imageShape: [...classifier.imageShape], classes: classifier.classes };
  if (features !== undefined) copy.features = { dir: features.dir, inputRange: [...features.inputRange] };
  return copy;
}
