import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/log/logger';
import { Replica } from '../../src/runs/replica';
import { RunService } from '../../src/runs/run.service';
import { TrainingJobStore } from '../../src/training-jobs/training-job.store';
import { checkTrainingSpec } from '../../src/training/training-spec';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-replica-'));
let db: Database;
const config = { heartbeatMs: 100, timeoutMs: 1000 };
const log = createLogger('silent');

beforeAll(async () => {
  db = openDatabase(`file:${path.join(dir, 'replicas.db')}`);
  await db.migrate();
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A replica row whose last heartbeat was `agoMs` ago (a dead one when that exceeds the timeout). */
async function replicaBeatAgo(id: string, agoMs: number): Promise<void> {
  const at = new Date(Date.now() - agoMs);
  await db.prisma.replica.create({ data: { id, host: 'h', pid: 1, startedAt: at, heartbeatAt: at } });
}

describe('Replica', () => {
  it('is live while it beats, dead once its heartbeat is older than the timeout, and a clean stop removes it', async () => {
    const me = new Replica(db, config, log);
    await me.register();
    await replicaBeatAgo('fresh', 200);
    await replicaBeatAgo('stale', 5000);
    expect((await me.liveIds()).sort()).toEqual([me.id, 'fresh'].sort());
    // A row another replica deleted (taking this one for dead) is written again on the next beat.
    await db.prisma.replica.delete({ where: { id: me.id } });
    await me.heartbeat();
    expect(await db.prisma.replica.count({ where: { id: me.id } })).toBe(1);
    await replicaBeatAgo('long-gone', 60_000);
    expect(await me.forgetDead()).toBe(1);
    await me.stop();
    expect((await db.prisma.replica.findMany({ orderBy: { id: 'asc' } })).map((r) => r.id)).toEqual(['fresh', 'stale']);
  });
});

describe('RunService.closeInterrupted with replicas', () => {
  it('closes the runs of dead or unknown owners only; a live owner keeps its runs, and training jobs still queued or running are left to the training sweep', async () => {
    const live = new RunService(db, 'wasm', log, 'live-replica');
    const dead = new RunService(db, 'wasm', log, 'dead-replica');
    const pending = new Promise<never>(() => undefined);
    const mine = await live.startJob(
      { kind: 'EVALUATE', parameters: {} },
      async () => undefined,
      () => pending,
    );
    const orphan = await dead.startJob(
      { kind: 'EVALUATE', parameters: {} },
      async () => undefined,
      () => pending,
    );
    const queued = await dead.startQueued({ kind: 'TRAIN', parameters: {} }, async (run) => {
      await new TrainingJobStore(db.prisma).create({
        id: run.runId,
        name: 'n',
        version: 'v',
        spec: checkTrainingSpec({ architecture: 'mlp', epochs: 1, limit: 64 }),
        parentModelId: null,
        folder: dir,
      });
    });
    await db.prisma.run.create({ data: { id: 'legacy', kind: 'SAMPLE', status: 'RUNNING', parameters: '{}' } });
    expect(await db.prisma.run.findUnique({ where: { id: mine.runId } })).toMatchObject({ owner: 'live-replica', status: 'RUNNING' });

    expect(await live.closeInterrupted('its replica stopped', [], ['live-replica'])).toBe(2);
    const status = async (id: string) => (await db.prisma.run.findUniqueOrThrow({ where: { id } })).status;
    expect(await status(mine.runId)).toBe('RUNNING');
    expect(await status(orphan.runId)).toBe('INTERRUPTED');
    expect(await status('legacy')).toBe('INTERRUPTED');
    expect(await status(queued)).toBe('RUNNING');
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: orphan.runId } })).errorMessage).toBe('its replica stopped');

    // The job's claim is atomic: one of two replicas gets it; a release by a replica that lost it changes nothing.
    const store = new TrainingJobStore(db.prisma);
    const claims = await Promise.all([store.claim(queued, 'live-replica'), store.claim(queued, 'other-replica')]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    const winner = claims[0] !== undefined ? 'live-replica' : 'other-replica';
    expect(await store.ownedByDead([winner])).toEqual([]);
    expect(await store.ownedByDead(['nobody'])).toEqual([{ id: queued, owner: winner, cancelRequested: false }]);
    expect(await store.release(queued, winner === 'live-replica' ? 'other-replica' : 'live-replica')).toBe(false);
    expect(await store.release(queued, winner)).toBe(true);
    expect(await store.get(queued)).toMatchObject({ state: 'QUEUED' });
    expect(await store.claim(queued, 'third')).toMatchObject({ state: 'RUNNING' });
    expect(await store.starts(queued)).toBe(2);

    // Without live owners (one process at start), every RUNNING run closes, as before.
    expect(await live.closeInterrupted('process stopped', [queued])).toBe(1);
    expect(await status(mine.runId)).toBe('INTERRUPTED');
  });
});
