import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend/backend';
import { UnreachableCaseError } from '../errors/unreachable';
import type { Executor } from './executor';
import type { GenerateRequest, WorkerReply, WorkerSetup } from './worker/messages';

export interface WorkerExecutorOptions {
  /** Worker threads, each with its own backend and its own copy of every model; at least 1. */
  workers: number;
  /** Models every worker loads: id -> absolute folder of the generator (model.json + weights.bin). */
  models: readonly { id: string; dir: string }[];
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
  | { type: 'restartFailed'; worker: number; message: string; retryInMs: number };

interface Job {
  jobId: number;
  modelId: string;
  latents: Float32Array;
  n: number;
  resolve: (images: Float32Array) => void;
  reject: (error: Error) => void;
}

/** A worker slot's state; a slot keeps its index across restarts. */
type SlotState =
  | { kind: 'starting' }
  | { kind: 'idle' }
  | { kind: 'busy'; job: Job }
  | { kind: 'stopped' };

interface Slot {
  index: number;
  worker: Worker;
  state: SlotState;
  /** Last uncaught error of the worker, reported when it exits. */
  lastError?: string;
  /** Live tensors in the worker after its last batch (see Executor.tensorCount). */
  numTensors: number;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
/** A dead worker restarts at once; after a failed restart, the next try waits this long, doubling up to the cap. */
const RESTART_DELAY_MS = 100;
const RESTART_DELAY_CAP_MS = 5_000;

/**
 * What a worker thread runs: from TypeScript sources (tsx, vitest) a CommonJS bootstrap that registers
 * tsx and then requires the .ts entry; from compiled JavaScript the entry itself.
 */
function workerFiles(): { script: string; entry: string } {
  const entry = path.join(__dirname, 'worker', `inference.worker${path.extname(__filename)}`);
  return { script: entry.endsWith('.ts') ? path.join(__dirname, 'worker', 'bootstrap.cjs') : entry, entry };
}

type ResolvedOptions = WorkerExecutorOptions & { backendOrder: readonly BackendName[]; startTimeoutMs: number };

/**
 * Runs generator batches on N worker threads, each with its own single-threaded backend and its own
 * copy of each model, so inference leaves the event loop free and uses N cores. One batch per
 * worker at a time (`concurrency` = N); batches beyond that wait here in order. A worker that dies
 * fails only the batch it held and is restarted. Build it with `WorkerExecutor.create`.
 */
export class WorkerExecutor implements Executor {
  readonly description: string;
  readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly modelIds: ReadonlySet<string>;
  private readonly setup: WorkerSetup;
  private readonly script: string;
  private nextJobId = 1;
  /** close() was called: no new batches. */
  private closing = false;
  /** Workers are being terminated: exits are expected, nothing restarts. */
  private terminating = false;
  private readonly drainWaiters: (() => void)[] = [];

  private constructor(private readonly options: ResolvedOptions) {
    const { script, entry } = workerFiles();
    this.script = script;
    this.setup = {
      entry,
      backendOrder: [...options.backendOrder],
      models: options.models.map((m) => ({ ...m })),
      optimize: options.optimize ?? true,
      exitOnBatchSize: options.exitOnBatchSize,
    };
    this.modelIds = new Set(options.models.map((m) => m.id));
    this.concurrency = options.workers;
    this.description = `${options.workers} worker thread${options.workers === 1 ? '' : 's'} (${options.backendOrder.join(', ')})`;
  }

  /** Starts every worker and resolves once all have loaded their backend and models. */
  static async create(options: WorkerExecutorOptions): Promise<WorkerExecutor> {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`WorkerExecutor: expected workers to be an integer >= 1, got ${options.workers}`);
    }
    if (options.models.length === 0) throw new Error('WorkerExecutor: expected at least one model, got none');
    for (const { id, dir } of options.models) {
      if (!path.isAbsolute(dir)) throw new Error(`WorkerExecutor: expected an absolute generator folder for ${id}, got ${JSON.stringify(dir)}`);
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

  generate(modelId: string, latents: Float32Array, n: number): Promise<Float32Array> {
    if (this.closing) return Promise.reject(new Error('WorkerExecutor: closed; no new batches are taken'));
    if (!this.modelIds.has(modelId)) {
      return Promise.reject(new Error(`WorkerExecutor: expected a model id among ${[...this.modelIds].join(', ')}, got ${JSON.stringify(modelId)}`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ jobId: this.nextJobId++, modelId, latents, n, resolve, reject });
      this.dispatch();
    });
  }

  /** Lets queued and in-flight batches finish, then terminates every worker. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.idle()) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await this.terminateAll();
  }

  /** Starts (or restarts) the worker of slot `index`; resolves when it is ready. */
  private start(index: number): Promise<void> {
    const worker = new Worker(this.script, {
      workerData: this.setup,
      // Not the parent's flags: tsx's loader flags, for one, do not belong in a worker.
      execArgv: [],
    });
    const slot: Slot = { index, worker, state: { kind: 'starting' }, numTensors: 0 };
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
          settle();
        }
        else if (message.type === 'startFailed') settle(message.message);
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

  private onReply(slot: Slot, message: WorkerReply): void {
    switch (message.type) {
      case 'result':
      case 'failed': {
        const state = slot.state;
        if (state.kind !== 'busy' || state.job.jobId !== message.jobId) return;
        slot.state = { kind: 'idle' };
        if (message.type === 'result') slot.numTensors = message.numTensors;
        if (message.type === 'result') state.job.resolve(message.images);
        else state.job.reject(new Error(message.message));
        this.dispatch();
        return;
      }
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

  /** Hands queued batches to idle workers, oldest first. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot === undefined || slot.state.kind !== 'idle') continue;
      const job = this.queue.shift();
      if (job === undefined) break;
      slot.state = { kind: 'busy', job };
      const request: GenerateRequest = { type: 'generate', jobId: job.jobId, modelId: job.modelId, latents: job.latents, n: job.n };
      // The latents' buffer moves to the worker when the array spans it (see Executor.generate).
      const owns = job.latents.byteOffset === 0 && job.latents.byteLength === job.latents.buffer.byteLength && job.latents.buffer instanceof ArrayBuffer;
      slot.worker.postMessage(request, owns ? [job.latents.buffer as ArrayBuffer] : []);
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
