import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { TrainingJobStore } from '../../src/training-jobs/training-job.store';
import { checkTrainingSpec } from '../../src/training/training-spec';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-execute-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUN = 'INSERT INTO "Run" ("id", "kind", "status", "parameters", "backend", "createdAt") VALUES (?, ?, ?, ?, ?, ?)';

/** What both providers must do: all statements or none, and the job row's end as Prisma reads it. */
async function checkExecuteAll(db: Database): Promise<void> {
  await db.migrate();
  const now = new Date();
  expect(
    await db.executeAll([
      { sql: RUN, params: ['r1', 'TRAIN', 'RUNNING', '{}', 'wasm', now] },
      { sql: RUN, params: ['r2', 'TRAIN', 'RUNNING', '{}', 'wasm', now] },
    ]),
  ).toEqual([1, 1]);
  // The second insert repeats an id: the first of the pair must not stay either.
  await expect(
    db.executeAll([
      { sql: RUN, params: ['r3', 'TRAIN', 'RUNNING', '{}', 'wasm', now] },
      { sql: RUN, params: ['r1', 'TRAIN', 'RUNNING', '{}', 'wasm', now] },
    ]),
  ).rejects.toThrow();
  expect((await db.prisma.run.findMany({ orderBy: { id: 'asc' } })).map((r) => r.id)).toEqual(['r1', 'r2']);
  expect(await db.executeAll([])).toEqual([]);
  // A guarded statement that changes nothing (a claim that lost) rolls back the rest: null, nothing written.
  const guarded = { sql: 'UPDATE "Run" SET "status" = ? WHERE "id" = ? AND "status" = ?', params: ['CANCELLED', 'r2', 'QUEUED'], expectChange: true };
  expect(await db.executeAll([{ sql: RUN, params: ['r4', 'TRAIN', 'RUNNING', '{}', 'wasm', now] }, guarded])).toBeNull();
  expect(await db.prisma.run.count()).toBe(2);
  expect(
    await db.executeAll([
      { sql: RUN, params: ['r4', 'TRAIN', 'RUNNING', '{}', 'wasm', now] },
      { ...guarded, params: ['CANCELLED', 'r2', 'RUNNING'] },
    ]),
  ).toEqual([1, 1]);
  expect((await db.prisma.run.findUniqueOrThrow({ where: { id: 'r2' } })).status).toBe('CANCELLED');

  // A training job's end as one statement (booleans and dates as Prisma stores them), with its run's.
  const store = new TrainingJobStore(db.prisma);
  await store.create({
    id: 'r1',
    name: 'n',
    version: 'v',
    spec: checkTrainingSpec({ architecture: 'mlp', epochs: 1, limit: 64 }),
    parentModelId: null,
    folder: dir,
  });
  const finishedAt = new Date('2026-11-27T10:00:00.000Z');
  await db.executeAll([
    { sql: 'UPDATE "Run" SET "status" = ?, "errorMessage" = ?, "finishedAt" = ? WHERE "id" = ?', params: ['INTERRUPTED', 'stopped', finishedAt, 'r1'] },
    store.finishStatement('r1', { state: 'INTERRUPTED', message: 'stopped', resumeOnStart: true }, finishedAt),
  ]);
  const job = await db.prisma.trainingJob.findUniqueOrThrow({ where: { id: 'r1' } });
  expect(job).toMatchObject({ state: 'INTERRUPTED', error: 'stopped', resumeOnStart: true, owner: null, finishedAt, modelId: null });
  expect((await db.prisma.run.findUniqueOrThrow({ where: { id: 'r1' } })).status).toBe('INTERRUPTED');
}

describe('Database.executeAll', () => {
  it('on SQLite: all statements in one transaction, or none', async () => {
    const db = openDatabase(`file:${path.join(dir, 'a.db')}`);
    try {
      await checkExecuteAll(db);
    } finally {
      await db.close();
    }
  });

  const server = postgresUrl();
  it.skipIf(!server)('on PostgreSQL (GANQL_TEST_POSTGRES_URL): all statements in one transaction, or none', async () => {
    const temp = await createTempDatabase(server!);
    const db = openDatabase(temp.url);
    try {
      await checkExecuteAll(db);
    } finally {
      await db.close();
      await temp.drop();
    }
  });
});
