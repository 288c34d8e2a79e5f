import type { Database, Statement } from '../db/database';
import type { Logger } from '../log/logger';
import { JobRunner, type BackgroundRun, type JobContext, type RunContext, type RunOutcome, type StartedJob } from './job-runner';
import type { RunKind } from './run.kind';
import { RunStore, type RunFilter, type RunPage, type RunRecord, type StartRun } from './run.store';
import { ownTurn } from '../system/turns';

/** What a short run's work hands back to recordFinished: rows to write with the run, in its transaction. */
export interface RecordedOutcome<T> extends RunOutcome<T> {
  /** E.g. the samples the run made (they reference the run, so they go in after it). */
  alsoWrite?: readonly Statement[];
}

/**
 * The one way work is recorded as a run: a row RUNNING before the work, finished after it, always
 * (short runs with record, background jobs with startJob, queued jobs with startQueued and
 * resumeJob); or, for request-path work that stores samples, one row written as the work ended,
 * with its samples, in a group commit (recordFinished). Rows are read and written by RunStore; background work is run by JobRunner.
 */
export class RunService {
  private readonly store: RunStore;
  private readonly jobs: JobRunner;

  constructor(
    db: Database,
    backend: string,
    log: Logger,
    /** The replica id recorded as the owner of the runs this process works on (src/runs/replica.ts). */
    readonly owner: string | null = null,
    /** Told how many short runs each group commit of recordFinished wrote (tests). */
    onGroupCommit?: (runs: number) => void,
  ) {
    this.store = new RunStore(db, backend, log, owner, onGroupCommit);
    this.jobs = new JobRunner(this.store, log);
  }

  /**
   * Runs `work` inside a recorded run. Errors are re-thrown after the run is marked FAILED;
   * a GanqlError's message is stored as is, anything else as an internal error.
   */
  async record<T>(start: StartRun, work: (context: RunContext) => Promise<RunOutcome<T>>): Promise<T> {
    const { value } = await this.begin(start, null, async (run, context) => {
      const outcome = await work(context);
      await this.store.succeeded(run.id, { modelId: run.model.id, result: outcome.result, durationMs: performance.now() - run.began });
      return outcome.value;
    });
    return value;
  }

  /**
   * Runs short request-path work (samples) as a run written once, as it ended: SUCCEEDED with the
   * rows the work hands back (`alsoWrite`) in the same transaction, or FAILED with the error's code
   * (then re-thrown, as in record). The value is returned only once those rows are committed. Runs
   * that end in the same turn of the event loop (the requests of one inference batch) share one
   * commit. Nothing is written while the work goes on: a process killed meanwhile leaves no row for
   * a request it never answered, where record() would leave one for the restart to close INTERRUPTED.
   */
  async recordFinished<T>(start: StartRun, work: (context: RunContext) => Promise<RecordedOutcome<T>>): Promise<T> {
    const began = performance.now();
    const run = { id: this.store.nextId(), start, createdAt: new Date() };
    let modelId = start.modelId;
    const context: RunContext = { runId: run.id, setModel: (m) => (modelId = m) };
    try {
      const outcome = await work(context);
      await this.store.insertSucceeded(run, { modelId, result: outcome.result, durationMs: performance.now() - began }, outcome.alsoWrite ?? []);
      // The runs of one inference batch commit together: each request writes its answer in a turn of its own (system/turns.ts).
      await ownTurn();
      return outcome.value;
    } catch (error) {
      await this.store.insertFailed(run, error, modelId, performance.now() - began);
      throw error;
    }
  }

  /**
   * Starts a long job as one run: writes it RUNNING (progress 0), runs `prepare` (validation and
   * anything the caller must wait for) inside the recorded scope, and returns as soon as it
   * succeeds, while `work` goes on in the background with a progress callback. A `prepare` failure
   * is recorded FAILED and re-thrown, as in record(); a `work` failure is recorded FAILED and
   * logged (nobody awaits it); work stopped by interruptJobs() is recorded INTERRUPTED, and work
   * that throws a JobEndedError ends with its status and message.
   */
  async startJob<P, T>(
    start: StartRun,
    prepare: (run: RunContext) => Promise<P>,
    work: (prepared: P, job: JobContext) => Promise<RunOutcome<T>>,
  ): Promise<StartedJob<P>> {
    const { run, value } = await this.begin(start, 0, (r, context) => this.prepareJob(r, context, prepare));
    return this.jobs.run(run, value, work);
  }

  /**
   * Starts a job whose work a queue runs later, maybe on another replica (training jobs): writes the
   * run RUNNING (progress 0) and runs `prepare` (validation, queueing) inside the recorded scope; a
   * failure is recorded FAILED and re-thrown. The run then stays RUNNING until a replica takes the
   * job up with resumeJob. Returns the run id.
   */
  async startQueued(start: StartRun, prepare: (run: RunContext) => Promise<void>): Promise<string> {
    const { run } = await this.begin(start, 0, (r, context) => this.prepareJob(r, context, prepare));
    return run.id;
  }

  /**
   * Continues a job a previous process left unfinished (or a queue hands over), as the same run: sets it back to RUNNING
   * (clearing its end) and runs `work` in the background as startJob does. For training jobs
   * resumed from a checkpoint at start-up.
   */
  async resumeJob<T>(runId: string, work: (job: JobContext) => Promise<RunOutcome<T>>): Promise<StartedJob<undefined>> {
    const record = await this.store.get(runId);
    await this.store.reopen(runId);
    // Its duration counts from its first start, downtime included.
    const began = performance.now() - (Date.now() - record.createdAt.getTime());
    return this.jobs.run({ id: runId, kind: record.kind, began, model: { id: record.modelId ?? undefined } }, undefined, (_prepared, job) => work(job));
  }

  /**
   * The start-and-fail step of every run: writes it RUNNING, then runs `step` in its scope; if that
   * throws, the run is recorded FAILED with the error's code and the error re-thrown.
   */
  private async begin<P>(
    start: StartRun,
    progress: number | null,
    step: (run: BackgroundRun, context: RunContext) => Promise<P>,
  ): Promise<{ run: BackgroundRun; value: P }> {
    const began = performance.now();
    const id = await this.store.insertRunning(start, progress);
    const run: BackgroundRun = { id, kind: start.kind, began, model: { id: start.modelId } };
    try {
      return { run, value: await step(run, { runId: id, setModel: (m) => (run.model.id = m) }) };
    } catch (error) {
      await this.store.failed(id, start.kind, error, run.model.id, performance.now() - began);
      throw error;
    }
  }

  /** A job's `prepare`; its model, once known, is shown while it runs (filters by model see it), not only at the end. */
  private async prepareJob<P>(run: BackgroundRun, context: RunContext, prepare: (run: RunContext) => Promise<P>): Promise<P> {
    const prepared = await prepare(context);
    if (run.model.id !== undefined) await this.store.setModel(run.id, run.model.id);
    return prepared;
  }

  /** Jobs whose work is still going on. */
  get activeJobs(): number {
    return this.jobs.active;
  }

  /** Resolves when every job started so far has ended and been recorded (p-queue's onIdle). */
  onJobsIdle(): Promise<void> {
    return this.jobs.onIdle();
  }

  /**
   * Asks every running job to stop (its signal aborts with `reason`) and resolves once each has
   * ended and been recorded, INTERRUPTED unless it finished first. For shutdown.
   */
  interruptJobs(reason: string): Promise<void> {
    return this.jobs.interruptAll(reason);
  }

  // Reads and the writes of runs no work is attached to: RunStore's.

  recordRejected(kind: RunKind, parameters: unknown, code: string, message: string): Promise<string> {
    return this.store.recordRejected(kind, parameters, code, message);
  }

  closeInterrupted(reason: string, except: readonly string[] = [], liveOwners?: readonly string[]): Promise<number> {
    return this.store.closeInterrupted(reason, except, liveOwners);
  }

  reopen(id: string): Promise<void> {
    return this.store.reopen(id);
  }

  markEnded(id: string, status: 'CANCELLED' | 'INTERRUPTED', message: string, alsoWrite: readonly Statement[] = []): Promise<boolean> {
    return this.store.markEnded(id, status, message, alsoWrite);
  }

  markInterrupted(id: string, reason: string, alsoWrite: readonly Statement[] = []): Promise<void> {
    return this.store.markInterrupted(id, reason, alsoWrite);
  }

  get(id: string): Promise<RunRecord> {
    return this.store.get(id);
  }

  find(id: string): Promise<RunRecord | undefined> {
    return this.store.find(id);
  }

  list(filter: RunFilter, first: number, afterOrNull?: string | null): Promise<RunPage> {
    return this.store.list(filter, first, afterOrNull);
  }

  parametersOf(runIds: readonly string[]): Promise<Map<string, string>> {
    return this.store.parametersOf(runIds);
  }

  sampleIdsByRun(runIds: readonly string[]): Promise<string[][]> {
    return this.store.sampleIdsByRun(runIds);
  }
}
