import type { Statement } from '../db/database';
import type { Logger } from '../log/logger';
import { ProgressWriter } from './progress-writer';
import type { RunKind, RunStatus } from './run.kind';
import { errorDetail, type RunStore } from './run.store';

/** A job's progress is written at most this often (a poll every second sees it move, the database barely). */
const PROGRESS_INTERVAL_MS = 250;

/** What a piece of work hands back to be stored with its run. */
export interface RunOutcome<T> {
  value: T;
  /** JSON-able summary kept in the run row (ids, counts). */
  result?: unknown;
}

export interface RunContext {
  runId: string;
  /** Sets the model once the work has resolved it (e.g. a default model). */
  setModel(modelId: string): void;
}

/** What the background part of a job gets besides its run. */
export interface JobContext extends RunContext {
  /** How far the work is, 0..1; written to Run.progress, throttled. */
  progress(fraction: number): void;
  /**
   * Aborted when the server stops (interruptJobs): the work should stop at its next step by
   * throwing (e.g. `signal.throwIfAborted()`); the run is then INTERRUPTED, not FAILED.
   */
  signal: AbortSignal;
  /**
   * Adds a write to make in the same transaction as the run's final status, whichever it is
   * (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED; not a hand-back to the queue): e.g. the training
   * job row's end, so no reader sees one ended and the other RUNNING.
   */
  onEnd(statement: Statement): void;
}

/**
 * Thrown by a job's work to end its run with a status other than SUCCEEDED or FAILED: CANCELLED
 * (stopped on request) or INTERRUPTED (stopped by the server, with a reason of its own). The message
 * is stored as the run's errorMessage.
 */
export class JobEndedError extends Error {
  override name = 'JobEndedError';
  constructor(
    readonly status: 'CANCELLED' | 'INTERRUPTED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by a job's work that hands the job back to a shared queue (a replica stopping while another
 * can continue it): its run stays RUNNING, with no owner, for the replica that takes the job up next.
 */
export class JobHandedBackError extends Error {
  override name = 'JobHandedBackError';
}

/** A job whose preparation succeeded and whose work goes on in the background. */
export interface StartedJob<P> {
  runId: string;
  /** What `prepare` returned. */
  prepared: P;
  /** Settles with the run's final status when the work has ended and been recorded; never rejects. */
  done: Promise<RunStatus>;
}

/** A run's model: known at the start, or set by its work once resolved. */
export interface RunModel {
  id: string | undefined;
}

/** A RUNNING run whose work is about to go on in the background. */
export interface BackgroundRun {
  id: string;
  kind: RunKind;
  /** performance.now() of its start (its duration counts from there). */
  began: number;
  model: RunModel;
}

/**
 * The background half of every job: runs its work with a progress callback and an abort signal,
 * records how it ended (SUCCEEDED, FAILED with its code, CANCELLED or INTERRUPTED, or handed back to
 * the queue), and can interrupt them all and wait for them (shutdown).
 */
export class JobRunner {
  /** Jobs whose background work has not ended yet, by run id. */
  private readonly jobs = new Map<string, { controller: AbortController; done: Promise<RunStatus> }>();

  constructor(
    private readonly store: RunStore,
    private readonly log: Logger,
  ) {}

  run<P, T>(run: BackgroundRun, prepared: P, work: (prepared: P, job: JobContext) => Promise<RunOutcome<T>>): StartedJob<P> {
    const { id, began, model } = run;
    const controller = new AbortController();
    const progress = new ProgressWriter(
      (fraction) => this.store.setProgress(id, fraction),
      PROGRESS_INTERVAL_MS,
      (error) => this.log.warn('could not record job progress', { runId: id, error: errorDetail(error) }),
    );
    const endWrites: Statement[] = [];
    const context: JobContext = {
      runId: id,
      setModel: (m) => (model.id = m),
      progress: (f) => progress.report(f),
      signal: controller.signal,
      onEnd: (s) => endWrites.push(s),
    };
    const done = (async (): Promise<RunStatus> => {
      try {
        const outcome = await work(prepared, context);
        // A progress write still in flight must land before the final one.
        await progress.close();
        await this.store.jobSucceeded(id, { modelId: model.id, result: outcome.result, durationMs: performance.now() - began }, endWrites);
        return 'SUCCEEDED';
      } catch (error) {
        await progress.close();
        return await this.recordEnd(run, error, controller.signal, endWrites);
      } finally {
        this.jobs.delete(id);
      }
    })();
    this.jobs.set(id, { controller, done });
    return { runId: id, prepared, done };
  }

  /** Jobs whose work is still going on. */
  get active(): number {
    return this.jobs.size;
  }

  /** Resolves when every job started so far has ended and been recorded (p-queue's onIdle). */
  async onIdle(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  /**
   * Asks every running job to stop (its signal aborts with `reason`) and resolves once each has
   * ended and been recorded, INTERRUPTED unless it finished first. For shutdown.
   */
  async interruptAll(reason: string): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort(new Error(reason));
    await this.onIdle();
  }

  /** How a job whose work threw ends: handed back, CANCELLED or INTERRUPTED as it says, INTERRUPTED by the server, else FAILED. */
  private async recordEnd(run: BackgroundRun, error: unknown, signal: AbortSignal, endWrites: readonly Statement[]): Promise<RunStatus> {
    const { id, began } = run;
    if (error instanceof JobHandedBackError) {
      // Another replica takes it up: the run stays open, owned by nobody until then.
      await this.store.handBack(id).catch((e: unknown) => this.log.error('could not hand a job back', { runId: id, error: errorDetail(e) }));
      return 'RUNNING';
    }
    if (error instanceof JobEndedError) {
      await this.store
        .jobEnded(id, error.status, error.message, performance.now() - began, endWrites)
        .catch((e: unknown) => this.log.error('could not record the end of a job', { runId: id, status: error.status, error: errorDetail(e) }));
      return error.status;
    }
    if (signal.aborted) {
      const reason = String(signal.reason instanceof Error ? signal.reason.message : signal.reason);
      await this.store
        .jobEnded(id, 'INTERRUPTED', reason, performance.now() - began, endWrites)
        .catch((e: unknown) => this.log.error('could not record an interrupted job', { runId: id, error: errorDetail(e) }));
      return 'INTERRUPTED';
    }
    await this.store.failed(id, run.kind, error, run.model.id, performance.now() - began, endWrites);
    return 'FAILED';
  }
}
