import { Worker } from 'node:worker_threads';
import { UnreachableCaseError } from '../errors/unreachable';
import type { PackedPngs } from '../images/packed-pngs';
import type { StimulusRequest, StimulusResult } from './executor';
import type { BackendName } from '../backend/backend';
import type { ModelSpec } from './model-spec';
import type { BatchTask } from './served-model';
import type { WorkerLaunch } from '../workers/worker-script';
import type { BatchRequest, LoadRequest, StimulusJobRequest, UnloadRequest, WorkerReply, WorkerSetup } from './worker/messages';

/** What a worker computes for a job: a batch (answered with its output) or an optimal-stimulus search. */
export type JobWork =
  | { kind: 'batch'; task: BatchTask; input: Float32Array; resolve: (output: Float32Array, pngs?: PackedPngs) => void }
  | { kind: 'stimulus'; request: StimulusRequest; resolve: (result: StimulusResult) => void };

export interface Job {
  jobId: number;
  modelId: string;
  /** Items in the job (1 for a stimulus search). */
  n: number;
  work: JobWork;
  reject: (error: Error) => void;
}

/**
 * A worker slot's state; a slot keeps its index across restarts. A busy worker holds its jobs in the
 * order it was handed them: it computes the first, and the others wait in its message queue.
 */
export type SlotState = { kind: 'starting' } | { kind: 'idle' } | { kind: 'busy'; jobs: Job[] } | { kind: 'stopped' };

export interface Slot {
  index: number;
  worker: Worker;
  state: SlotState;
  /** Last uncaught error of the worker, reported when it exits. */
  lastError?: string;
  /** Live tensors in the worker after its last batch (see Executor.tensorCount). */
  numTensors: number;
  /** Models the worker holds (as it reported when ready, then as loads finish); batches go only to a worker holding their model. */
  models: Set<string>;
  /** The tfjs backend the worker chose, once ready. */
  backend?: BackendName;
  /** Loads sent to the worker and not answered yet, by load id. */
  loads: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
}

/** What the owner of a slot hears from its worker. */
export interface SlotHandlers {
  /** The worker loaded its backend and models and is idle. */
  onReady(slot: Slot): void;
  /** A job finished (answered or failed): the slot has room for another. */
  onJobDone(slot: Slot): void;
  /** The worker died after it had started. */
  onExit(slot: Slot, code: number): void;
}

/** Spawns the worker of slot `index` with `setup`; `ready` resolves once it has loaded its backend and models. */
export function startSlot(
  index: number,
  launch: WorkerLaunch,
  setup: WorkerSetup,
  startTimeoutMs: number,
  handlers: SlotHandlers,
): { slot: Slot; ready: Promise<void> } {
  const worker = new Worker(launch.script, { workerData: setup, execArgv: launch.execArgv });
  const slot: Slot = { index, worker, state: { kind: 'starting' }, numTensors: 0, models: new Set(), loads: new Map() };
  const ready = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) {
        slot.state = { kind: 'idle' };
        resolve();
        handlers.onReady(slot);
      } else {
        slot.state = { kind: 'stopped' };
        reject(new Error(`inference worker ${index} failed to start: ${error}`));
        void worker.terminate();
      }
    };
    const timer = setTimeout(() => settle(`did not start within ${startTimeoutMs} ms`), startTimeoutMs);
    worker.on('message', (message: WorkerReply) => {
      if (message.type === 'ready') {
        slot.numTensors = message.numTensors;
        slot.models = new Set(message.models);
        slot.backend = message.backend;
        settle();
      } else if (message.type === 'startFailed') settle(message.message);
      else if (onReply(slot, message)) handlers.onJobDone(slot);
    });
    worker.on('error', (error: Error) => {
      slot.lastError = error.message;
    });
    worker.on('exit', (code: number) => {
      if (!settled) settle(slot.lastError ?? `exited with code ${code}`);
      else handlers.onExit(slot, code);
    });
  });
  return { slot, ready };
}

/**
 * Hands a job to the slot's worker; the caller has added it to the slot's busy jobs. A batch's input
 * moves to the worker (transferred) unless `keepInput`: a job queued behind another keeps its input,
 * so that it can go to another worker if this one dies before starting it.
 */
export function postJob(slot: Slot, job: Job, keepInput = false): void {
  const { work } = job;
  if (work.kind === 'stimulus') {
    const request: StimulusJobRequest = { type: 'stimulus', jobId: job.jobId, modelId: job.modelId, request: work.request };
    slot.worker.postMessage(request);
    return;
  }
  const { input, task } = work;
  const request: BatchRequest = { type: 'batch', jobId: job.jobId, modelId: job.modelId, input, n: job.n, ...task };
  // The input's buffer moves to the worker when the array spans it (see Executor.generate).
  const owns = !keepInput && input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
  slot.worker.postMessage(request, owns ? [input.buffer] : []);
}

/**
 * Asks the slot's worker to load `spec`; resolves when it has (after `onLoaded`), or when it died
 * meanwhile (its successor loads it at start).
 */
export function sendLoad(slot: Slot, spec: ModelSpec, loadId: number, onLoaded: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    slot.loads.set(loadId, {
      resolve: () => {
        slot.models.add(spec.id);
        resolve();
        onLoaded();
      },
      reject,
    });
    const request: LoadRequest = { type: 'load', loadId, model: spec };
    slot.worker.postMessage(request);
  });
}

export function sendUnload(slot: Slot, modelId: string): void {
  slot.models.delete(modelId);
  const request: UnloadRequest = { type: 'unload', modelId };
  slot.worker.postMessage(request);
}

/** Applies a running worker's reply to its slot; true when it ended one of the slot's jobs, so the slot has room again. */
function onReply(slot: Slot, message: WorkerReply): boolean {
  switch (message.type) {
    case 'result':
    case 'stimulus':
    case 'failed': {
      const state = slot.state;
      if (state.kind !== 'busy') return false;
      const at = state.jobs.findIndex((j) => j.jobId === message.jobId);
      if (at < 0) return false;
      const [job] = state.jobs.splice(at, 1);
      if (state.jobs.length === 0) slot.state = { kind: 'idle' };
      const { work } = job;
      if (message.type === 'failed') job.reject(new Error(message.message));
      else if (message.type === 'result' && work.kind === 'batch') work.resolve(message.output, message.pngs);
      else if (message.type === 'stimulus' && work.kind === 'stimulus') {
        const { image, activation, trace, preActivation } = message;
        work.resolve({ image, activation, trace, ...(preActivation !== undefined ? { preActivation } : {}) });
      } else job.reject(new Error(`inference worker ${slot.index} answered a ${work.kind} job with a ${message.type} reply`));
      if (message.type !== 'failed') slot.numTensors = message.numTensors;
      return true;
    }
    case 'loaded':
    case 'loadFailed': {
      const load = slot.loads.get(message.loadId);
      if (load === undefined) return false;
      slot.loads.delete(message.loadId);
      if (message.type === 'loaded') {
        slot.numTensors = message.numTensors;
        load.resolve();
      } else {
        load.reject(new Error(`inference worker ${slot.index} could not load the model: ${message.message}`));
      }
      return false;
    }
    case 'unloaded':
      slot.numTensors = message.numTensors;
      return false;
    case 'ready':
    case 'startFailed':
      // Handled while starting; a worker sends each once.
      return false;
    default:
      throw new UnreachableCaseError(message);
  }
}
