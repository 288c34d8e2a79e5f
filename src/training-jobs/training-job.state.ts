import { ErrorCode } from '../errors/error-code';
import { UnreachableCaseError } from '../errors/unreachable';
import type { RunStatus } from '../runs/run.kind';

/**
 * A training job's life: QUEUED until a training slot is free (GANQL_MAX_TRAINING_JOBS), RUNNING
 * on a worker thread, then one of the final states.
 */
export const TRAINING_JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'] as const;
export type TrainingJobState = (typeof TRAINING_JOB_STATES)[number];
export type FinalJobState = Exclude<TrainingJobState, 'QUEUED' | 'RUNNING'>;

export function isFinalState(state: TrainingJobState): state is FinalJobState {
  switch (state) {
    case 'QUEUED':
    case 'RUNNING':
      return false;
    case 'SUCCEEDED':
    case 'FAILED':
    case 'CANCELLED':
    case 'INTERRUPTED':
      return true;
    default:
      throw new UnreachableCaseError(state);
  }
}

/** The status of the job's TRAIN run for each state (a queued job's run is already RUNNING: it is accepted). */
export function runStatusOf(state: TrainingJobState): RunStatus {
  switch (state) {
    case 'QUEUED':
    case 'RUNNING':
      return 'RUNNING';
    case 'SUCCEEDED':
    case 'FAILED':
    case 'CANCELLED':
    case 'INTERRUPTED':
      return state;
    default:
      throw new UnreachableCaseError(state);
  }
}

export function isJobState(value: string): value is TrainingJobState {
  return (TRAINING_JOB_STATES as readonly string[]).includes(value);
}

/** How a job ended: what its row and its run record. */
export type JobEnd =
  | { state: 'SUCCEEDED'; modelId: string }
  | { state: 'FAILED'; code: string; message: string }
  | { state: 'CANCELLED'; message: string }
  /** resumeOnStart: the next start of the server resumes it from its checkpoint. */
  | { state: 'INTERRUPTED'; message: string; resumeOnStart: boolean };

/** The error column of a job that ended: why it did not succeed. */
export function endMessage(end: JobEnd): string | null {
  switch (end.state) {
    case 'SUCCEEDED':
      return null;
    case 'FAILED':
    case 'CANCELLED':
    case 'INTERRUPTED':
      return end.message;
    default:
      throw new UnreachableCaseError(end);
  }
}

/** A job that failed for a reason of the server's own: the details are in its log, not in the job. */
export function internalFailure(jobId: string): JobEnd {
  return { state: 'FAILED', code: ErrorCode.INTERNAL_SERVER_ERROR, message: `training failed with an internal error; see the server log for job ${jobId}` };
}
