import type { BackendName } from '../../backend/backend';

/** What a worker is started with (its workerData). */
export interface WorkerSetup {
  /** The worker's .ts (or compiled .js) entry, for the bootstrap to load. */
  entry: string;
  /** Backends to try in the worker, in order. */
  backendOrder: BackendName[];
  /** Every model the worker loads: id -> absolute folder of its generator (model.json + weights.bin). */
  models: { id: string; dir: string }[];
  /** ganql's wasm kernels and batchnorm folding; false runs tfjs's own kernels on the model as saved. */
  optimize: boolean;
  /** Test hook: the worker exits, as on a crash, when handed a batch of exactly this size. */
  exitOnBatchSize?: number;
}

/** Main thread -> worker. */
export interface GenerateRequest {
  type: 'generate';
  jobId: number;
  modelId: string;
  latents: Float32Array;
  n: number;
}

/** Worker -> main thread. */
export type WorkerReply =
  | { type: 'ready'; backend: BackendName; customKernels: string[]; numTensors: number }
  | { type: 'startFailed'; message: string }
  | { type: 'result'; jobId: number; images: Float32Array; numTensors: number }
  | { type: 'failed'; jobId: number; message: string };
