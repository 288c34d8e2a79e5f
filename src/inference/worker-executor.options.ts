import type { BackendName } from '../backend/backend';
import type { ModelSpec } from './model-spec';
import type { OnnxServing } from './onnx-sessions';

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
  /**
   * Serve generate and classify on ONNX Runtime (loaded on this thread) in each worker, with its
   * threads and providers: each model's networks are exported and checked here first (prepareOnnx),
   * and a network that fails stays on tfjs. @default undefined (all on tfjs)
   */
  onnx?: OnnxServing;
  /**
   * Batches one worker may hold: the one it computes and, behind it in its message queue, up to
   * `pipelineDepth - 1` more, so it starts the next without waiting for the main thread to hear of
   * the last (the round trip costs about half a batch of one on ONNX Runtime). An optimal-stimulus
   * search, which takes seconds, is never queued behind another job nor a job behind it.
   * `concurrency` is workers x pipelineDepth. @default 2
   */
  pipelineDepth?: number;
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
