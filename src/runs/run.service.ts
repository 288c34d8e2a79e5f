import type { Database, Prisma, Statement } from '../db/database';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError, notFound } from '../errors/ganql-error';
import type { Logger } from '../log/logger';
import { expectIntInRange } from '../validation/checks';
import { ProgressWriter } from './progress-writer';
import { createUuidV7Generator } from './run-id';
import type { RunKind, RunStatus } from './run.kind';

/** Largest page `list` returns. */
export const MAX_RUNS_PAGE = 100;

/** A job's progress is written at most this often (a poll every second sees it move, the database barely). */
const PROGRESS_INTERVAL_MS = 250;

export interface RunRecord {
  id: string;
  kind: RunKind;
  status: RunStatus;
  parameters: string;
  result: string | null;
  modelId: string | null;
  backend: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  durationMs: number | null;
  /** 0..1 while a job runs, 1 once it succeeded; null for short runs. */
  progress: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface RunFilter {
  kind?: RunKind;
  status?: RunStatus;
  modelId?: string;
}

export interface RunPage {
  runs: RunRecord[];
  hasNextPage: boolean;
  totalCount: number;
}

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

export interface StartRun {
  kind: RunKind;
  modelId?: string;
  parameters: unknown;
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

/** The one place that writes runs: a row RUNNING before the work, finished after it, always. */
export class RunService {
  private readonly prisma: Prisma;
  /** Time-ordered ids: listings break createdAt ties by id. */
  private readonly newId = createUuidV7Generator();
  /** Jobs whose background work has not ended yet, by run id. */
  private readonly jobs = new Map<string, { controller: AbortController; done: Promise<RunStatus> }>();

  constructor(
    private readonly db: Database,
    private readonly backend: string,
    private readonly log: Logger,
    /** The replica id recorded as the owner of the runs this process works on (src/runs/replica.ts). */
    readonly owner: string | null = null,
  ) {
    this.prisma = db.prisma;
  }

  /** Writes the run's row RUNNING; a raw statement, as this runs for every request (see Database.execute). */
  private async insertRunning(id: string, start: StartRun, progress: number | null): Promise<void> {
    await this.db.execute('INSERT INTO "Run" ("id", "kind", "status", "parameters", "backend", "progress", "owner", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      id,
      start.kind,
      'RUNNING',
      JSON.stringify(start.parameters ?? {}),
      this.backend,
      progress,
      this.owner,
      new Date(),
    ]);
  }

  /**
   * Runs `work` inside a recorded run. Errors are re-thrown after the run is marked FAILED;
   * a GanqlError's message is stored as is, anything else as an internal error.
   */
  async record<T>(start: StartRun, work: (context: RunContext) => Promise<RunOutcome<T>>): Promise<T> {
    const id = this.newId();
    const began = performance.now();
    let modelId = start.modelId;
    await this.insertRunning(id, start, null);
    try {
      const outcome = await work({ runId: id, setModel: (m) => (modelId = m) });
      await this.db.execute(
        'UPDATE "Run" SET "status" = ?, "modelId" = ?, "result" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
        ['SUCCEEDED', modelId ?? null, outcome.result === undefined ? null : JSON.stringify(outcome.result), performance.now() - began, new Date(), id],
      );
      return outcome.value;
    } catch (error) {
      await this.recordFailure(id, start.kind, error, modelId, performance.now() - began);
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
    const id = this.newId();
    const began = performance.now();
    let modelId = start.modelId;
    const setModel = (m: string): void => {
      modelId = m;
    };
    await this.insertRunning(id, start, 0);
    let prepared: P;
    try {
      prepared = await prepare({ runId: id, setModel });
      // A job runs for minutes: show its model while it runs (filters by model see it), not only at the end.
      if (modelId !== undefined) await this.db.execute('UPDATE "Run" SET "modelId" = ? WHERE "id" = ?', [modelId, id]);
    } catch (error) {
      await this.recordFailure(id, start.kind, error, modelId, performance.now() - began);
      throw error;
    }

    return this.runInBackground(id, start.kind, began, { get: () => modelId, set: setModel }, prepared, work);
  }

  /**
   * Starts a job whose work a queue runs later, maybe on another replica (training jobs): writes the
   * run RUNNING (progress 0) and runs `prepare` (validation, queueing) inside the recorded scope; a
   * failure is recorded FAILED and re-thrown. The run then stays RUNNING until a replica takes the
   * job up with resumeJob. Returns the run id.
   */
  async startQueued(start: StartRun, prepare: (run: RunContext) => Promise<void>): Promise<string> {
    const id = this.newId();
    const began = performance.now();
    let modelId = start.modelId;
    await this.insertRunning(id, start, 0);
    try {
      await prepare({ runId: id, setModel: (m) => (modelId = m) });
      if (modelId !== undefined) await this.db.execute('UPDATE "Run" SET "modelId" = ? WHERE "id" = ?', [modelId, id]);
    } catch (error) {
      await this.recordFailure(id, start.kind, error, modelId, performance.now() - began);
      throw error;
    }
    return id;
  }

  /**
   * Continues a job a previous process left unfinished (or a queue hands over), as the same run: sets it back to RUNNING
   * (clearing its end) and runs `work` in the background as startJob does. For training jobs
   * resumed from a checkpoint at start-up.
   */
  async resumeJob<T>(runId: string, work: (job: JobContext) => Promise<RunOutcome<T>>): Promise<StartedJob<undefined>> {
    const run = await this.get(runId);
    await this.reopen(runId);
    // Its duration counts from its first start, downtime included.
    const began = performance.now() - (Date.now() - run.createdAt.getTime());
    let modelId = run.modelId ?? undefined;
    return this.runInBackground(runId, run.kind, began, { get: () => modelId, set: (m) => (modelId = m) }, undefined, (_prepared, job) => work(job));
  }

  /** The background half of startJob and resumeJob: runs `work`, writes progress, records how it ended. */
  private runInBackground<P, T>(
    id: string,
    kind: RunKind,
    began: number,
    model: { get: () => string | undefined; set: (modelId: string) => void },
    prepared: P,
    work: (prepared: P, job: JobContext) => Promise<RunOutcome<T>>,
  ): StartedJob<P> {
    const controller = new AbortController();
    const progress = new ProgressWriter(
      async (fraction) => {
        await this.db.execute('UPDATE "Run" SET "progress" = ? WHERE "id" = ? AND "status" = ?', [fraction, id, 'RUNNING']);
      },
      PROGRESS_INTERVAL_MS,
      (error) => this.log.warn('could not record job progress', { runId: id, error: errorDetail(error) }),
    );
    const endWrites: Statement[] = [];
    const context: JobContext = { runId: id, setModel: model.set, progress: (f) => progress.report(f), signal: controller.signal, onEnd: (s) => endWrites.push(s) };
    const done = (async (): Promise<RunStatus> => {
      try {
        const outcome = await work(prepared, context);
        // A progress write still in flight must land before the final one.
        await progress.close();
        await this.db.executeAll([
          {
            sql: 'UPDATE "Run" SET "status" = ?, "modelId" = ?, "result" = ?, "progress" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
            params: ['SUCCEEDED', model.get() ?? null, outcome.result === undefined ? null : JSON.stringify(outcome.result), 1, performance.now() - began, new Date(), id],
          },
          ...endWrites,
        ]);
        return 'SUCCEEDED';
      } catch (error) {
        await progress.close();
        if (error instanceof JobHandedBackError) {
          // Another replica takes it up: the run stays open, owned by nobody until then.
          await this.db
            .execute('UPDATE "Run" SET "owner" = ? WHERE "id" = ? AND "owner" = ?', [null, id, this.owner])
            .catch((e: unknown) => this.log.error('could not hand a job back', { runId: id, error: errorDetail(e) }));
          return 'RUNNING';
        }
        if (error instanceof JobEndedError) {
          await this.db
            .executeAll([
              {
                sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
                params: [error.status, error.message.slice(0, 2000), performance.now() - began, new Date(), id],
              },
              ...endWrites,
            ])
            .catch((e: unknown) => this.log.error('could not record the end of a job', { runId: id, status: error.status, error: errorDetail(e) }));
          return error.status;
        }
        if (controller.signal.aborted) {
          const reason = String(controller.signal.reason instanceof Error ? controller.signal.reason.message : controller.signal.reason);
          await this.db
            .executeAll([
              { sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?', params: ['INTERRUPTED', reason, performance.now() - began, new Date(), id] },
              ...endWrites,
            ])
            .catch((e: unknown) => this.log.error('could not record an interrupted job', { runId: id, error: errorDetail(e) }));
          return 'INTERRUPTED';
        }
        await this.recordFailure(id, kind, error, model.get(), performance.now() - began, endWrites);
        return 'FAILED';
      } finally {
        this.jobs.delete(id);
      }
    })();
    this.jobs.set(id, { controller, done });
    return { runId: id, prepared, done };
  }

  /** Jobs whose work is still going on. */
  get activeJobs(): number {
    return this.jobs.size;
  }

  /** Resolves when every job started so far has ended and been recorded (p-queue's onIdle). */
  async onJobsIdle(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  /**
   * Asks every running job to stop (its signal aborts with `reason`) and resolves once each has
   * ended and been recorded, INTERRUPTED unless it finished first. For shutdown.
   */
  async interruptJobs(reason: string): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort(new Error(reason));
    await this.onJobsIdle();
  }

  private async recordFailure(id: string, kind: RunKind, error: unknown, modelId: string | undefined, durationMs: number, alsoWrite: readonly Statement[] = []): Promise<void> {
    const known = isGanqlError(error);
    if (!known) this.log.error('run failed with an internal error', { runId: id, kind, error: errorDetail(error) });
    await this.finishFailed(id, {
      modelId: known && error.code === ErrorCode.NOT_FOUND ? undefined : modelId,
      code: known ? error.code : ErrorCode.INTERNAL_SERVER_ERROR,
      message: known ? error.message : 'Internal error; see the server log for run ' + id,
      durationMs,
      alsoWrite,
    });
  }

  /** Records a request that failed before any work started (e.g. it did not match the schema). */
  async recordRejected(kind: RunKind, parameters: unknown, code: string, message: string): Promise<string> {
    const id = this.newId();
    await this.prisma.run.create({
      data: {
        id,
        kind,
        status: 'FAILED',
        parameters: JSON.stringify(parameters ?? {}),
        backend: this.backend,
        errorCode: code,
        errorMessage: message.slice(0, 2000),
        durationMs: 0,
        finishedAt: new Date(),
      },
    });
    return id;
  }

  private async finishFailed(id: string, f: { modelId?: string; code: string; message: string; durationMs: number; alsoWrite?: readonly Statement[] }): Promise<void> {
    const finish = (modelId: string | null) =>
      this.db.executeAll([
        // Samples are inserted before the run is marked SUCCEEDED; a run that fails after that keeps none (no client got their ids).
        { sql: 'DELETE FROM "Sample" WHERE "runId" = ?', params: [id] },
        {
          sql: 'UPDATE "Run" SET "status" = ?, "modelId" = ?, "errorCode" = ?, "errorMessage" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
          params: ['FAILED', modelId, f.code, f.message.slice(0, 2000), f.durationMs, new Date(), id],
        },
        ...(f.alsoWrite ?? []),
      ]);
    try {
      await finish(f.modelId ?? null);
    } catch (error) {
      // The model id may not exist (foreign key); keep the failure recorded without it.
      await finish(null).catch((e: unknown) => {
        this.log.error('could not record a failed run', { runId: id, error: errorDetail(e), first: errorDetail(error) });
      });
    }
  }

  /**
   * Marks runs left RUNNING by a process that died as INTERRUPTED, except those in `except` (jobs
   * about to be resumed) and, with several replicas, those owned by a replica in `liveOwners`
   * (heartbeating: src/runs/replica.ts) and the runs of training jobs still QUEUED or RUNNING (the
   * training sweep takes those over). Without `liveOwners`, every RUNNING run is closed (one
   * process, at start). Samples such a run had stored are deleted: they are written before the run
   * is marked SUCCEEDED, and no client got their ids. Returns how many runs.
   */
  async closeInterrupted(reason: string, except: readonly string[] = [], liveOwners?: readonly string[]): Promise<number> {
    const dead = await this.prisma.run.findMany({
      select: { id: true },
      where: {
        status: 'RUNNING',
        ...(except.length > 0 ? { id: { notIn: [...except] } } : {}),
        ...(liveOwners !== undefined
          ? {
              OR: [{ owner: null }, { owner: { notIn: [...liveOwners] } }],
              NOT: { trainingJob: { is: { state: { in: ['QUEUED', 'RUNNING'] } } } },
            }
          : {}),
      },
    });
    if (dead.length === 0) return 0;
    const ids = dead.map((r) => r.id);
    // The owners of these runs are dead: nothing else writes their samples while this runs.
    await this.prisma.sample.deleteMany({ where: { runId: { in: ids } } });
    const { count } = await this.prisma.run.updateMany({
      where: { id: { in: ids }, status: 'RUNNING' },
      data: { status: 'INTERRUPTED', errorMessage: reason, finishedAt: new Date() },
    });
    return count;
  }

  /** Sets a run back to RUNNING, owned by this replica, clearing how it ended (a job taken up again). */
  async reopen(id: string): Promise<void> {
    await this.db.execute('UPDATE "Run" SET "status" = ?, "errorCode" = ?, "errorMessage" = ?, "finishedAt" = ?, "owner" = ? WHERE "id" = ?', ['RUNNING', null, null, null, this.owner, id]);
  }

  /**
   * Ends a run that no process works on (a training job cancelled while QUEUED) with this status and
   * message, and `alsoWrite` in the same transaction. False when a guarded statement of `alsoWrite`
   * (a claim) changed nothing: then nothing was written.
   */
  async markEnded(id: string, status: 'CANCELLED' | 'INTERRUPTED', message: string, alsoWrite: readonly Statement[] = []): Promise<boolean> {
    // False: a guarded statement of alsoWrite (expectChange) changed nothing, so neither was written.
    return null !== await this.db.executeAll([
      { sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "finishedAt" = ? WHERE "id" = ? AND "status" = ?', params: [status, message.slice(0, 2000), new Date(), id, 'RUNNING'] },
      ...alsoWrite,
    ]);
  }

  /** Records a run left RUNNING or INTERRUPTED by an earlier process as INTERRUPTED with this reason (e.g. why it is not resumed), and `alsoWrite` in the same transaction. */
  async markInterrupted(id: string, reason: string, alsoWrite: readonly Statement[] = []): Promise<void> {
    await this.db.executeAll([
      {
        sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "finishedAt" = COALESCE("finishedAt", ?) WHERE "id" = ? AND "status" IN (?, ?)',
        params: ['INTERRUPTED', reason.slice(0, 2000), new Date(), id, 'RUNNING', 'INTERRUPTED'],
      },
      ...alsoWrite,
    ]);
  }

  async get(id: string): Promise<RunRecord> {
    const run = await this.prisma.run.findUnique({ where: { id } });
    if (!run) throw notFound('run', id);
    return run as RunRecord;
  }

  /** Newest first; `after` is the id of the last run of the previous page. */
  async list(filter: RunFilter, first: number, afterOrNull?: string | null): Promise<RunPage> {
    expectIntInRange('first', first, 1, MAX_RUNS_PAGE);
    // after: null (a client may send it for an optional argument) is the first page, as when it is left out.
    const after = afterOrNull ?? undefined;
    // GraphQL lets a client send null for an optional filter field: no filter, as when it is left out.
    const where = { kind: filter.kind ?? undefined, status: filter.status ?? undefined, modelId: filter.modelId ?? undefined };
    if (after !== undefined && (await this.prisma.run.count({ where: { id: after } })) === 0) {
      throw notFound('run cursor', after);
    }
    const [rows, totalCount] = await Promise.all([
      this.prisma.run.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: first + 1,
        ...(after !== undefined ? { cursor: { id: after }, skip: 1 } : {}),
      }),
      this.prisma.run.count({ where }),
    ]);
    // Rows come from the runs table, whose kind and status are only ever written from RunKind/RunStatus.
    return { runs: rows.slice(0, first) as RunRecord[], hasNextPage: rows.length > first, totalCount };
  }

  /** Sample ids of many runs at once, for a DataLoader. */
  async sampleIdsByRun(runIds: readonly string[]): Promise<string[][]> {
    const rows = await this.prisma.sample.findMany({
      where: { runId: { in: [...runIds] } },
      select: { id: true, runId: true },
      orderBy: { index: 'asc' },
    });
    const byRun = new Map<string, string[]>(runIds.map((id) => [id, []]));
    for (const row of rows) byRun.get(row.runId)?.push(row.id);
    return runIds.map((id) => byRun.get(id) ?? []);
  }
}

export function errorDetail(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}
