import type { BackendName } from '../../backend/backend';
import type { PackedPngs } from '../../images/packed-pngs';
import type { PngFormat } from '../../images/png';
import type { InferencePass, StimulusRequest } from '../executor';
import type { FilterRemoval, LayerPass } from '../layer-passes';
import type { ModelSpec } from '../model-spec';
import type { OnnxSessionSettings } from '../onnx-sessions';

/** What a worker is started with (its workerData). */
export interface WorkerSetup {
  /** The worker's .ts (or compiled .js) entry, for the bootstrap to load. */
  entry: string;
  /** Backends to try in the worker, in order. */
  backendOrder: BackendName[];
  /**
   * Every model the worker loads at start: id, absolute folder of its generator (model.json +
   * weights.bin) and, on K+1 models, its classifier, with its ONNX plan when ONNX Runtime serves.
   * Models added later come as LoadRequests.
   */
  models: ModelSpec[];
  /** ganql's wasm kernels and batchnorm folding; false runs tfjs's own kernels on the model as saved. */
  optimize: boolean;
  /** Serve the networks each model's ONNX plan puts on ONNX Runtime, with sessions made so; undefined serves all on tfjs. */
  onnx?: OnnxSessionSettings;
  /** Test hook: the worker exits, as on a crash, when handed a batch of exactly this size. */
  exitOnBatchSize?: number;
}

/** Main thread -> worker: one batch of a forward pass. */
export interface BatchRequest {
  type: 'batch';
  pass: InferencePass;
  jobId: number;
  modelId: string;
  /** Latents (generate, generatorMeans) or images (classify, featureMaps, neurons), row-major. */
  input: Float32Array;
  n: number;
  /** pass 'generate' only: feature maps to zero. */
  removal?: FilterRemoval;
  /** pass 'generate' only: compute on tfjs even when ONNX Runtime serves the generator. */
  onTfjs?: boolean;
  /** pass 'generate' only: also encode each image as a PNG in this format (answered in the result's `pngs`). */
  png?: PngFormat;
  /** pass 'layer' only: which layer, read how. */
  layerPass?: LayerPass;
}

/** Main thread -> worker: one optimal-stimulus search (answered by a 'stimulus' or 'failed' reply). */
export interface StimulusJobRequest {
  type: 'stimulus';
  jobId: number;
  modelId: string;
  request: StimulusRequest;
}

/** Main thread -> worker: load a model version added after start. */
export interface LoadRequest {
  type: 'load';
  loadId: number;
  model: ModelSpec;
}

/** Main thread -> worker: drop a model (a load that failed elsewhere, or one the worker has but should not). */
export interface UnloadRequest {
  type: 'unload';
  modelId: string;
}

export type WorkerRequest = BatchRequest | StimulusJobRequest | LoadRequest | UnloadRequest;

/** Worker -> main thread. */
export type WorkerReply =
  | { type: 'ready'; backend: BackendName; customKernels: string[]; numTensors: number; models: string[] }
  | { type: 'startFailed'; message: string }
  | { type: 'result'; jobId: number; output: Float32Array; pngs?: PackedPngs; numTensors: number }
  | { type: 'stimulus'; jobId: number; image: Float32Array; activation: number; trace: number[]; preActivation?: number; numTensors: number }
  | { type: 'failed'; jobId: number; message: string }
  | { type: 'loaded'; loadId: number; numTensors: number }
  | { type: 'loadFailed'; loadId: number; message: string }
  | { type: 'unloaded'; modelId: string; numTensors: number };
