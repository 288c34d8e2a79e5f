import type { Database, Prisma } from '../db/database';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError, notFound } from '../errors/ganql-error';
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

/** The one place that writes runs: a row RUNNING before the work, finished after it, always. */
export class RunService {
  private readonly prisma: Prisma;
  /** Time-ordered ids: listings break createdAt ties by id. */
  private readonly newId = createUuidV7Generator();

  constructor(
    private readonly db: Database,
    private readonly backend: string,
    private readonly log: Logger,
  ) {
    this.prisma = db.prisma;
  }

  /**
   * Runs `work` inside a recorded run. Errors are re-thrown after the run is marked FAILED;
   * a GanqlError's message is stored as is, anything else as an internal error.
   */
  async record<T>(start: StartRun, work: (context: RunContext) => Promise<RunOutcome<T>>): Promise<T> {
    const id = this.newId();
    const began = performance.now();
    let modelId = start.modelId;
    // Raw statements on this path: it runs for every request (see Database.execute).
    await this.db.execute('INSERT INTO "Run" ("id", "kind", "status", "parameters", "backend", "createdAt") VALUES (?, ?, ?, ?, ?, ?)', [
      id,
      start.kind,
      'RUNNING',
      JSON.stringify(start.parameters ?? {}),
      this.backend,
      new Date(),
    ]);
    try {
      const outcome = await work({ runId: id, setModel: (m) => (modelId = m) });
      await this.db.execute(
        'UPDATE "Run" SET "status" = ?, "modelId" = ?, "result" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
        ['SUCCEEDED', modelId ?? null, outcome.result === undefined ? null : JSON.stringify(outcome.result), performance.now() - began, new Date(), id],
      );
      return outcome.value;
    } catch (error) {
      const known = isGanqlError(error);
      if (!known) this.log.error('run failed with an internal error', { runId: id, kind: start.kind, error: errorDetail(error) });
      await this.finishFailed(id, {
        modelId: known && error.code === ErrorCode.NOT_FOUND ? undefined : modelId,
        code: known ? error.code : ErrorCode.INTERNAL_SERVER_ERROR,
        message: known ? error.message : 'Internal error; see the server log for run ' + id,
        durationMs: performance.now() - began,
      });
      throw error;
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
        errorMessage: message.slice(0, 2000),
        durationMs: 0,
        finishedAt: new Date(),
      },
    });
    return id;
  }

  private async finishFailed(id: string, f: { modelId?: string; code: string; message: string; durationMs: number }): Promise<void> {
    const finish = (modelId: string | null) =>
      this.db.execute(
        'UPDATE "Run" SET "status" = ?, "modelId" = ?, "errorCode" = ?, "errorMessage" = ?, "durationMs" = ?, "finishedAt" = ? WHERE "id" = ?',
        ['FAILED', modelId, f.code, f.message.slice(0, 2000), f.durationMs, new Date(), id],
      );
    try {
      await finish(f.modelId ?? null);
    } catch (error) {
      // The model id may not exist (foreign key); keep the failure recorded without it.
      await finish(null).catch((e: unknown) => {
        this.log.error('could not record a failed run', { runId: id, error: errorDetail(e), first: errorDetail(error) });
      });
    }
  }

  /** Marks runs left RUNNING by a process that died as INTERRUPTED. Returns how many. */
  async closeInterrupted(reason: string): Promise<number> {
    const { count } = await this.prisma.run.updateMany({
      where: { status: 'RUNNING' },
      data: { status: 'INTERRUPTED', errorMessage: reason, finishedAt: new Date() },
    });
    return count;
  }

  async get(id: string): Promise<RunRecord> {
    const run = await this.prisma.run.findUnique({ where: { id } });
    if (!run) throw notFound('run', id);
    return run as RunRecord;
  }

  /** Newest first; `after` is the id of the last run of the previous page. */
  async list(filter: RunFilter, first: number, after?: string): Promise<RunPage> {
    expectIntInRange('first', first, 1, MAX_RUNS_PAGE);
    const where = { kind: filter.kind, status: filter.status, modelId: filter.modelId };
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
