// Over 300 lines on purpose: every read and write of the Run table is here, so its SQL has one home.
import type { Database, Prisma, Statement } from '../db/database';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError, notFound } from '../errors/ganql-error';
import { GroupCommit } from '../db/group-commit';
import type { Logger } from '../log/logger';
import { expectIntInRange } from '../validation/checks';
import { createUuidV7Generator } from './run-id';
import type { RunKind, RunStatus } from './run.kind';

/** Largest page `list` returns. */
export const MAX_RUNS_PAGE = 100;

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

export interface StartRun {
  kind: RunKind;
  modelId?: string;
  parameters: unknown;
}

/** How a run that succeeded is stored. */
export interface RunSuccess {
  modelId: string | undefined;
  /** JSON-able summary kept in the run row (ids, counts). */
  result: unknown;
  durationMs: number;
}

/** A short run written once, as it ended (RunService.recordFinished). */
export interface EndedRun {
  id: string;
  start: StartRun;
  /** When its work began. */
  createdAt: Date;
}

/** Stored error messages are cut to this many characters. */
const MAX_MESSAGE = 2000;

/**
 * Every read and write of the Run table. Writes on the request path are raw statements (see
 * Database.execute); the end of a job is written in one transaction with its `alsoWrite` statements.
 */
export class RunStore {
  private readonly prisma: Prisma;
  /** Time-ordered ids: listings break createdAt ties by id. */
  private readonly newId = createUuidV7Generator();
  /** Short runs that end in the same turn of the event loop share one transaction. */
  private readonly group: GroupCommit;

  constructor(
    private readonly db: Database,
    private readonly backend: string,
    private readonly log: Logger,
    /** The replica id recorded as the owner of the runs this process works on (src/runs/replica.ts). */
    readonly owner: string | null,
    /** Told how many short runs each group commit wrote (tests). */
    onGroupCommit?: (runs: number) => void,
  ) {
    this.prisma = db.prisma;
    this.group = new GroupCommit(db, onGroupCommit);
  }

  /** A new run id, for a run written once it has ended (insertSucceeded, insertFailed). */
  nextId(): string {
    return this.newId();
  }

  /**
   * Writes a short run SUCCEEDED, as it ended, with `alsoWrite` (its samples) in the same
   * transaction: the group commit of every short run that ends in this turn of the event loop.
   * Resolves once committed.
   */
  async insertSucceeded(run: EndedRun, s: RunSuccess, alsoWrite: readonly Statement[]): Promise<void> {
    await this.group.write([this.insertEnded(run, 'SUCCEEDED', s.modelId ?? null, s.durationMs, { result: resultJson(s.result) }), ...alsoWrite]);
  }

  /** Writes a short run FAILED, as it ended, with the error's code (see failed), in the group commit of its turn. */
  async insertFailed(run: EndedRun, error: unknown, modelId: string | undefined, durationMs: number): Promise<void> {
    const { code, message } = this.failure(run.id, run.start.kind, error);
    const write = (model: string | null) =>
      this.group.write([this.insertEnded(run, 'FAILED', model, durationMs, { errorCode: code, errorMessage: message.slice(0, MAX_MESSAGE) })]);
    try {
      await write((code === ErrorCode.NOT_FOUND ? undefined : modelId) ?? null);
    } catch (first) {
      // The model id may not exist (foreign key); keep the failure recorded without it.
      await write(null).catch((e: unknown) => {
        this.log.error('could not record a failed run', { runId: run.id, error: errorDetail(e), first: errorDetail(first) });
      });
    }
  }

  private insertEnded(
    run: EndedRun,
    status: 'SUCCEEDED' | 'FAILED',
    modelId: string | null,
    durationMs: number,
    end: { result?: string | null; errorCode?: string; errorMessage?: string },
  ): Statement {
    return {
      sql:
        'INSERT INTO "Run" ("id", "kind", "status", "parameters", "result", "modelId", "backend", "errorCode", "errorMessage", "durationMs", "owner", "createdAt", "finishedAt") ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      params: [
        run.id,
        run.start.kind,
        status,
        JSON.stringify(run.start.parameters ?? {}),
        end.result ?? null,
        modelId,
        this.backend,
        end.errorCode ?? null,
        end.errorMessage ?? null,
        durationMs,
        this.owner,
        run.createdAt,
        new Date(),
      ],
    };
  }

  /** How an error is stored: a GanqlError's code and message as they are, anything else (logged here) as an internal error. */
  private failure(id: string, kind: RunKind, error: unknown): { code: ErrorCode; message: string } {
    if (isGanqlError(error)) return { code: error.code, message: error.message };
    this.log.error('run failed with an internal error', { runId: id, kind, error: errorDetail(error) });
    return { code: ErrorCode.INTERNAL_SERVER_ERROR, message: 'Internal error; see the server log for run ' + id };
  }

  /** Writes a new run RUNNING, owned by this replica; returns its id. */
  async insertRunning(start: StartRun, progress: number | null): Promise<string> {
    const id = this.newId();
    await this.db.execute(
      'INSERT INTO "Run" ("id", "kind", "status", "parameters", "backend", "progress", "owner", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [id, start.kind, 'RUNNING', JSON.stringify(start.parameters ?? {}), this.backend, progress, this.owner, new Date()],
    );
    return id;
  }

  async setModel(id: string, modelId: string): Promise<void> {
    await this.db.execute('UPDATE "Run" SET "modelId" = ? WHERE "id" = ?', [modelId, id]);
  }

  /** A running job's progress; a run that has ended keeps its own. */
  async setProgress(id: string, fraction: number): Promise<void> {
    await this.db.execute('UPDATE "Run" SET "progress" = ? WHERE "id" = ? AND "status" = ?', [fraction, id, 'RUNNING']);
  }

  /** A short run's success. */
  async succeeded(id: string, s: RunSuccess): Promise<void> {
    await this.db.execute('UPDATE "Run" SET "status" = ?, "modelId" = ?, "result" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?', [
      'SUCCEEDED',
      s.modelId ?? null,
      resultJson(s.result),
      s.durationMs,
      new Date(),
      id,
    ]);
  }

  /** A job's success (progress 1), with `alsoWrite` in the same transaction. */
  async jobSucceeded(id: string, s: RunSuccess, alsoWrite: readonly Statement[]): Promise<void> {
    await this.db.executeAll([
      {
        sql: 'UPDATE "Run" SET "status" = ?, "modelId" = ?, "result" = ?, "progress" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
        params: ['SUCCEEDED', s.modelId ?? null, resultJson(s.result), 1, s.durationMs, new Date(), id],
      },
      ...alsoWrite,
    ]);
  }

  /** A job that ended CANCELLED or INTERRUPTED while this process worked on it, with `alsoWrite` in the same transaction. */
  async jobEnded(id: string, status: 'CANCELLED' | 'INTERRUPTED', message: string, durationMs: number, alsoWrite: readonly Statement[]): Promise<void> {
    await this.db.executeAll([
      {
        sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
        params: [status, message.slice(0, MAX_MESSAGE), durationMs, new Date(), id],
      },
      ...alsoWrite,
    ]);
  }

  /** A job handed back to a shared queue: its run stays RUNNING, owned by nobody until a replica takes it up. */
  async handBack(id: string): Promise<void> {
    await this.db.execute('UPDATE "Run" SET "owner" = ? WHERE "id" = ? AND "owner" = ?', [null, id, this.owner]);
  }

  /**
   * Records the run FAILED with the error's code: a GanqlError's code and message as they are,
   * anything else (logged here) as an internal error. `alsoWrite` goes in the same transaction.
   */
  async failed(
    id: string,
    kind: RunKind,
    error: unknown,
    modelId: string | undefined,
    durationMs: number,
    alsoWrite: readonly Statement[] = [],
  ): Promise<void> {
    const { code, message } = this.failure(id, kind, error);
    const finish = (model: string | null) =>
      this.db.executeAll([
        // Samples are inserted before the run is marked SUCCEEDED; a run that fails after that keeps none (no client got their ids).
        { sql: 'DELETE FROM "Sample" WHERE "runId" = ?', params: [id] },
        {
          sql: 'UPDATE "Run" SET "status" = ?, "modelId" = ?, "errorCode" = ?, "errorMessage" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
          params: ['FAILED', model, code, message.slice(0, MAX_MESSAGE), durationMs, new Date(), id],
        },
        ...alsoWrite,
      ]);
    try {
      await finish((code === ErrorCode.NOT_FOUND ? undefined : modelId) ?? null);
    } catch (first) {
      // The model id may not exist (foreign key); keep the failure recorded without it.
      await finish(null).catch((e: unknown) => {
        this.log.error('could not record a failed run', { runId: id, error: errorDetail(e), first: errorDetail(first) });
      });
    }
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
        errorMessage: message.slice(0, MAX_MESSAGE),
        durationMs: 0,
        finishedAt: new Date(),
      },
    });
    return id;
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
    await this.db.execute('UPDATE "Run" SET "status" = ?, "errorCode" = ?, "errorMessage" = ?, "finishedAt" = ?, "owner" = ? WHERE "id" = ?', [
      'RUNNING',
      null,
      null,
      null,
      this.owner,
      id,
    ]);
  }

  /**
   * Ends a run that no process works on (a training job cancelled while QUEUED) with this status and
   * message, and `alsoWrite` in the same transaction. False when a guarded statement of `alsoWrite`
   * (a claim) changed nothing: then nothing was written.
   */
  async markEnded(id: string, status: 'CANCELLED' | 'INTERRUPTED', message: string, alsoWrite: readonly Statement[] = []): Promise<boolean> {
    // False: a guarded statement of alsoWrite (expectChange) changed nothing, so neither was written.
    return (
      null !==
      (await this.db.executeAll([
        {
          sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "finishedAt" = ? WHERE "id" = ? AND "status" = ?',
          params: [status, message.slice(0, MAX_MESSAGE), new Date(), id, 'RUNNING'],
        },
        ...alsoWrite,
      ]))
    );
  }

  /** Records a run left RUNNING or INTERRUPTED by an earlier process as INTERRUPTED with this reason (e.g. why it is not resumed), and `alsoWrite` in the same transaction. */
  async markInterrupted(id: string, reason: string, alsoWrite: readonly Statement[] = []): Promise<void> {
    await this.db.executeAll([
      {
        sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "finishedAt" = COALESCE("finishedAt", ?) WHERE "id" = ? AND "status" IN (?, ?)',
        params: ['INTERRUPTED', reason.slice(0, MAX_MESSAGE), new Date(), id, 'RUNNING', 'INTERRUPTED'],
      },
      ...alsoWrite,
    ]);
  }

  async get(id: string): Promise<RunRecord> {
    const run = await this.find(id);
    if (!run) throw notFound('run', id);
    return run;
  }

  async find(id: string): Promise<RunRecord | undefined> {
    const run = await this.prisma.run.findUnique({ where: { id } });
    // Rows come from the runs table, whose kind and status are only ever written from RunKind/RunStatus.
    return (run as RunRecord | null) ?? undefined;
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

  /** The recorded parameters (JSON) of each of these runs, by run id; unknown ids are absent. */
  async parametersOf(runIds: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.prisma.run.findMany({ where: { id: { in: [...new Set(runIds)] } }, select: { id: true, parameters: true } });
    return new Map(rows.map((r) => [r.id, r.parameters]));
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

function resultJson(result: unknown): string | null {
  return result === undefined ? null : JSON.stringify(result);
}

export function errorDetail(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}
