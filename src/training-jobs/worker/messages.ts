import type { BackendName } from '../../backend/backend';
import type { ModelManifest } from '../../models/manifest';
import type { TrainingSpec } from '../../training/training-spec';
import type { JobEpoch } from '../training-job.store';

/** What a training worker is started with (its workerData). */
export interface TrainingWorkerSetup {
  /** The worker's .ts (or compiled .js) entry, for the bootstrap to load. */
  entry: string;
  /** Backends to try in the worker, in order: the one the server chose. */
  backendOrder: BackendName[];
  /** Threads of the native kernels per call; 0 leaves wasm's own kernels (config.training.threads). */
  threads: number;
  spec: TrainingSpec;
  /** The job's folder: the session's outDir (checkpoint/ while it runs, the version at the end). */
  outDir: string;
  name: string;
  version: string;
  /** Recorded in the manifest: how the job was started. */
  command: string;
  /** Continue from outDir's checkpoint. */
  resume: boolean;
  /** Where spec.evalEvery finds the dataset's scorer (the server's GANQL_SCORERS_DIR). */
  scorersDir: string;
  /** Absolute folder of the version to fine-tune from. */
  fineTuneFrom?: string;
  /** Kept versions (spec.keepEvery) go to `<keepRoot>/<keepPrefix>-epoch-NNN`, straight into the models folder. */
  keepRoot: string;
  keepPrefix: string;
  /**
   * One Int32 the main thread sets to 1 to stop the session after its current step. Shared memory,
   * not a message: the training loop does not yield to the worker's event loop between steps.
   */
  stopFlag: SharedArrayBuffer;
  /** Step events are posted at most this often. */
  stepIntervalMs: number;
}

/** Worker -> main thread, in order; exactly one of finished, stopped or failed ends the stream. */
export type TrainingWorkerMessage =
  | { type: 'started'; backend: BackendName; kernels: string }
  | { type: 'step'; epoch: number; step: number; stepsPerEpoch: number; generatorLoss: number; discriminatorLoss: number; imagesPerSecond: number }
  | { type: 'epoch'; epochs: number; epoch: JobEpoch }
  | { type: 'kept'; epoch: number; dir: string; manifest: ModelManifest }
  | { type: 'finished'; dir: string; manifest: ModelManifest }
  | { type: 'stopped'; completedEpochs: number }
  /** code: a GanqlError's code (e.g. BAD_USER_INPUT for a fine-tune source that does not fit), else undefined. */
  | { type: 'failed'; message: string; code?: string; stack?: string };
