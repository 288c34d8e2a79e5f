import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Statement } from '../../src/db/database';
import { GroupCommit } from '../../src/db/group-commit';
import { badInput } from '../../src/errors/ganql-error';
import { createLogger } from '../../src/log/logger';
import { RunService } from '../../src/runs/run.service';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-record-finished-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE = 'INSERT INTO "Sample" ("id", "modelId", "runId", "index", "latent", "backend", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?)';
const sampleOf = (id: string, runId: string, modelId = 'm@1'): Statement => ({
  sql: SAMPLE,
  params: [id, modelId, runId, 0, Buffer.alloc(8), 'wasm', new Date()],
});

/** A gate many pieces of work wait on, released at once: the requests of one inference batch. */
function batch(): { done: Promise<void>; release(): void; fail(error: Error): void } {
  let release!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { done, release, fail };
}

async function migrated(db: Database): Promise<void> {
  await db.migrate();
  await db.prisma.model.create({
    data: {
      id: 'm@1',
      name: 'm',
      version: '1',
      architecture: 'dcgan',
      dataset: 'mnist',
      latentSize: 2,
      imageHeight: 1,
      imageWidth: 1,
      imageChannels: 1,
      path: 'm',
      manifest: '{}',
    },
  });
}

/** What both providers must do. */
async function checkRecordFinished(db: Database): Promise<void> {
  await migrated(db);
  const groups: number[] = [];
  const runs = new RunService(
    db,
    'wasm',
    createLogger('error', () => undefined),
    'replica-1',
    (n) => groups.push(n),
  );

  // Eight requests answered by one batch: one commit for their runs and samples, and none while they work.
  const gate = batch();
  const ids: string[] = [];
  const requests = Array.from({ length: 8 }, (_, i) =>
    runs.recordFinished({ kind: 'SAMPLE', parameters: { i } }, async (run) => {
      ids.push(run.runId);
      run.setModel('m@1');
      await gate.done;
      return { value: i, result: { sampleIds: [`s${i}`] }, alsoWrite: [sampleOf(`s${i}`, run.runId)] };
    }),
  );
  await new Promise((r) => setTimeout(r, 20));
  expect(await db.prisma.run.count()).toBe(0);
  gate.release();
  expect(await Promise.all(requests)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(groups).toEqual([8]);
  const rows = await db.prisma.run.findMany({ where: { id: { in: ids } }, include: { samples: true } });
  expect(rows).toHaveLength(8);
  for (const row of rows) {
    expect(row).toMatchObject({ kind: 'SAMPLE', status: 'SUCCEEDED', modelId: 'm@1', backend: 'wasm', owner: 'replica-1', errorCode: null, progress: null });
    expect(row.samples.map((s) => s.id)).toEqual([`s${(JSON.parse(row.parameters) as { i: number }).i}`]);
    expect(row.finishedAt!.getTime()).toBeGreaterThanOrEqual(row.createdAt.getTime());
    expect(row.durationMs).toBeGreaterThan(0);
  }

  // A batch that fails: every request of it is recorded FAILED with the error's code, in one commit, and no sample is kept.
  groups.length = 0;
  const failing = batch();
  const failed = Array.from({ length: 5 }, (_, i) =>
    runs.recordFinished({ kind: 'SAMPLE', parameters: { failing: i } }, async (run) => {
      run.setModel('m@1');
      await failing.done;
      return { value: i, alsoWrite: [sampleOf(`never-${i}`, run.runId)] };
    }),
  );
  failing.fail(badInput('count: expected 1..256, got 0'));
  for (const request of failed) await expect(request).rejects.toThrow('count: expected 1..256, got 0');
  expect(groups).toEqual([5]);
  const failedRows = await db.prisma.run.findMany({ where: { status: 'FAILED' } });
  expect(failedRows).toHaveLength(5);
  for (const row of failedRows) expect(row).toMatchObject({ kind: 'SAMPLE', modelId: 'm@1', errorCode: 'BAD_USER_INPUT', result: null });
  expect(await db.prisma.sample.count({ where: { id: { startsWith: 'never-' } } })).toBe(0);

  // One request whose rows cannot be written fails alone: its neighbours in the group are committed.
  groups.length = 0;
  const mixed = batch();
  const outcomes = Promise.allSettled(
    ['ok-a', 'bad', 'ok-b'].map((name) =>
      runs.recordFinished({ kind: 'SAMPLE', parameters: { name } }, async (run) => {
        run.setModel('m@1');
        await mixed.done;
        // A sample of a model that does not exist breaks its foreign key.
        return { value: name, alsoWrite: [sampleOf(`x-${name}`, run.runId, name === 'bad' ? 'ghost@0' : 'm@1')] };
      }),
    ),
  );
  mixed.release();
  const settled = await outcomes;
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  const byName = async (name: string) =>
    (await db.prisma.run.findMany({ where: { parameters: JSON.stringify({ name }) }, include: { samples: true } })).map((r) => ({
      status: r.status,
      errorCode: r.errorCode,
      samples: r.samples.length,
    }));
  expect(await byName('ok-a')).toEqual([{ status: 'SUCCEEDED', errorCode: null, samples: 1 }]);
  expect(await byName('ok-b')).toEqual([{ status: 'SUCCEEDED', errorCode: null, samples: 1 }]);
  expect(await byName('bad')).toEqual([{ status: 'FAILED', errorCode: 'INTERNAL_SERVER_ERROR', samples: 0 }]);
}

describe('RunService.recordFinished (group commit)', () => {
  it('on SQLite: the runs of one batch and their samples in one commit, failures recorded, a bad set failing alone', async () => {
    const db = openDatabase(`file:${path.join(dir, 'a.db')}`);
    try {
      await checkRecordFinished(db);
    } finally {
      await db.close();
    }
  });

  const server = postgresUrl();
  it.skipIf(!server)('on PostgreSQL (GANQL_TEST_POSTGRES_URL): the same', async () => {
    const temp = await createTempDatabase(server!);
    const db = openDatabase(temp.url);
    try {
      await checkRecordFinished(db);
    } finally {
      await db.close();
      await temp.drop();
    }
  });
});

describe('GroupCommit', () => {
  it('gathers the writes handed in while a commit is under way into the next one, and refuses guarded statements', async () => {
    const db = openDatabase(`file:${path.join(dir, 'b.db')}`);
    try {
      await migrated(db);
      const groups: number[] = [];
      const group = new GroupCommit(db, (n) => groups.push(n));
      const run = (id: string): Statement => ({
        sql: 'INSERT INTO "Run" ("id", "kind", "status", "parameters", "createdAt") VALUES (?, ?, ?, ?, ?)',
        params: [id, 'SAMPLE', 'SUCCEEDED', '{}', new Date()],
      });
      const first = [group.write([run('a')]), group.write([run('b')])];
      // Handed in after the first group was scheduled, before it committed: the next group.
      setImmediate(() => void group.write([run('c')]));
      await Promise.all(first);
      await new Promise((r) => setImmediate(r));
      await group.onIdle();
      expect(groups).toEqual([2, 1]);
      expect((await db.prisma.run.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((r) => r.id)).toEqual(['a', 'b', 'c']);
      await expect(group.write([{ ...run('d'), expectChange: true }])).rejects.toThrow('expected statements without expectChange');
    } finally {
      await db.close();
    }
  });
});
