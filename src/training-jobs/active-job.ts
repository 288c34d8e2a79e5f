import type { TrainingSpec } from '../training/training-spec';
import type { JobEnd } from './training-job.state';
import type { TrainingJobRecord } from './training-job.store';
import type { TrainingWorker } from './training-worker';

/** Stopping a job: on request (cancelTraining) or because the server stops. */
export type StopReason = 'cancel' | 'shutdown';

/** Where a job this process owns is in its life. */
export type JobPhase = { kind: 'starting' } | { kind: 'running'; worker: TrainingWorker } | { kind: 'ending' };

/** A job this process runs (queued or on a worker). */
export interface ActiveJob {
  id: string;
  spec: TrainingSpec;
  name: string;
  version: string;
  folder: string;
  parentModelId: string | null;
  /** Start the session from the job folder's checkpoint (a resumed job). */
  resume: boolean;
  phase: JobPhase;
  stop?: StopReason;
  /** Set once the worker was terminated for not stopping in time. */
  terminated: boolean;
  /** Another replica owns the job now (this one was taken for dead): nothing more is written. */
  fenced: boolean;
  /** Stopped by this replica's shutdown and put back in the shared queue for another replica. */
  handedBack: boolean;
  epochsCompleted: number;
  keptModelIds: string[];
  end?: JobEnd;
  /** Resolves once its run is recorded and its END event sent. */
  settled: Promise<void>;
  markSettled: () => void;
}

/** A job just taken up from the queue: starting, its settled promise unresolved. */
export function newActiveJob(
  record: Pick<TrainingJobRecord, 'id' | 'spec' | 'name' | 'version' | 'folder' | 'parentModelId' | 'epochsCompleted' | 'keptModelIds'>,
  resume: boolean,
): ActiveJob {
  let markSettled = (): void => undefined;
  const settled = new Promise<void>((resolve) => (markSettled = resolve));
  return {
    id: record.id,
    spec: record.spec,
    name: record.name,
    version: record.version,
    folder: record.folder,
    parentModelId: record.parentModelId,
    resume,
    phase: { kind: 'starting' },
    terminated: false,
    fenced: false,
    handedBack: false,
    epochsCompleted: record.epochsCompleted,
    keptModelIds: [...record.keptModelIds],
    settled,
    markSettled,
  };
}
