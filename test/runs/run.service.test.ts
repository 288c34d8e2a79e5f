import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { badInput } from '../../src/errors/ganql-error';
import { createLogger } from '../../src/log/logger';
import { RunService } from '../../src/runs/run.service';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-runs-'));
let db: Database;
const logged: string[] = [];
let runs: RunService;

beforeAll(async () => {
  db = openDatabase(`file:${path.join(dir, 'runs.db')}`);
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
  runs = new RunService(
    db,
    'wasm',
    createLogger('error', (l) => logged.push(l)),
  );
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RunService.record', () => {
  it('writes RUNNING before the work and SUCCEEDED after, with result and duration', async () => {
    let seenDuring: string | undefined;
    const value = await runs.record({ kind: 'SAMPLE', parameters: { count: 2 } }, async (run) => {
      seenDuring = (await db.prisma.run.findUnique({ where: { id: run.runId } }))?.status;
      run.setModel('m@1');
      return { value: 42, result: { sampleIds: ['a', 'b'] } };
    });
    expect(value).toBe(42);
    expect(seenDuring).toBe('RUNNING');
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row).toMatchObject({
      kind: 'SAMPLE',
      status: 'SUCCEEDED',
      modelId: 'm@1',
      backend: 'wasm',
      parameters: '{"count":2}',
      result: '{"sampleIds":["a","b"]}',
    });
    expect(row.durationMs).toBeGreaterThan(0);
    expect(row.finishedAt).toBeInstanceOf(Date);
  });

  it('records a user error with its code and message, and re-throws it', async () => {
    await expect(runs.record({ kind: 'SAMPLE', parameters: {} }, async () => Promise.reject(badInput('count: expected 1..2, got 3')))).rejects.toThrow(
      'count: expected 1..2, got 3',
    );
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row).toMatchObject({ status: 'FAILED', errorCode: 'BAD_USER_INPUT', errorMessage: 'count: expected 1..2, got 3' });
  });

  it('records an internal error as INTERNAL_SERVER_ERROR without its details, and logs them', async () => {
    const secret = new TypeError('connection string postgres://admin:hunter2@db');
    await expect(runs.record({ kind: 'SAMPLE', parameters: {} }, async () => Promise.reject(secret))).rejects.toBe(secret);
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row.status).toBe('FAILED');
    expect(row.errorCode).toBe('INTERNAL_SERVER_ERROR');
    expect(row.errorMessage).toBe(`Internal error; see the server log for run ${row.id}`);
    expect(logged.at(-1)).toContain('hunter2');
  });

  it('keeps the failure recorded when the model id does not exist', async () => {
    await expect(
      runs.record({ kind: 'SAMPLE', modelId: 'ghost@0', parameters: {} }, async (run) => {
        run.setModel('ghost@0');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row).toMatchObject({ status: 'FAILED', modelId: null, errorCode: 'INTERNAL_SERVER_ERROR' });
  });

  it('closeInterrupted marks runs left RUNNING as INTERRUPTED', async () => {
    await db.prisma.run.create({ data: { id: 'left-running', kind: 'SAMPLE', status: 'RUNNING', parameters: '{}' } });
    expect(await runs.closeInterrupted('process died')).toBe(1);
    expect(await db.prisma.run.findUnique({ where: { id: 'left-running' } })).toMatchObject({ status: 'INTERRUPTED', errorMessage: 'process died' });
    expect(await runs.closeInterrupted('again')).toBe(0);
  });

  it('leaves no samples behind a run that did not succeed (killed, or failed after storing them)', async () => {
    const sample = (id: string, runId: string) =>
      db.prisma.sample.create({ data: { id, modelId: 'm@1', runId, index: 0, latent: Buffer.alloc(8), backend: 'wasm' } });
    await db.prisma.run.create({ data: { id: 'killed-mid-write', kind: 'SAMPLE', status: 'RUNNING', parameters: '{}' } });
    await sample('orphan-1', 'killed-mid-write');
    await db.prisma.run.create({ data: { id: 'done', kind: 'SAMPLE', status: 'SUCCEEDED', parameters: '{}' } });
    await sample('kept-1', 'done');
    expect(await runs.closeInterrupted('process died')).toBe(1);
    expect(await db.prisma.sample.findMany({ select: { id: true } })).toEqual([{ id: 'kept-1' }]);

    await expect(
      runs.record({ kind: 'SAMPLE', parameters: {} }, async (run) => {
        await sample('orphan-2', run.runId);
        throw new Error('storage failed after the insert');
      }),
    ).rejects.toThrow('storage failed');
    expect(await db.prisma.sample.count({ where: { id: 'orphan-2' } })).toBe(0);
  });
});

describe('RunService.startJob', () => {
  const rowOf = async (id: string) => (await db.prisma.run.findUnique({ where: { id } }))!;

  it('returns once prepared with the run RUNNING at progress 0, writes progress while the work goes on, then SUCCEEDED at 1', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reported!: () => void;
    const reportedHalf = new Promise<void>((resolve) => (reported = resolve));
    const job = await runs.startJob(
      { kind: 'EVALUATE', parameters: { samples: 100 } },
      async (run) => {
        run.setModel('m@1');
        return { samples: 100 };
      },
      async (prepared, ctx) => {
        ctx.progress(0.25);
        ctx.progress(0.5);
        reported();
        await gate;
        return { value: prepared.samples, result: { isMean: 7.5 } };
      },
    );
    expect(job.prepared).toEqual({ samples: 100 });
    expect(await rowOf(job.runId)).toMatchObject({ kind: 'EVALUATE', status: 'RUNNING', progress: 0, finishedAt: null });
    await reportedHalf;
    // Throttled, but the latest value is always written (a trailing write).
    await expect.poll(async () => (await rowOf(job.runId)).progress, { timeout: 2000, interval: 20 }).toBe(0.5);
    expect(runs.activeJobs).toBe(1);
    release();
    expect(await job.done).toBe('SUCCEEDED');
    expect(await rowOf(job.runId)).toMatchObject({ status: 'SUCCEEDED', progress: 1, modelId: 'm@1', result: '{"isMean":7.5}' });
    expect(runs.activeJobs).toBe(0);
  });

  it('records a failed preparation as FAILED with its code and throws it to the caller; the work never starts', async () => {
    let worked = false;
    await expect(
      runs.startJob(
        { kind: 'EVALUATE', parameters: {} },
        async () => Promise.reject(badInput('samples: expected an integer in 100..50000, got 5')),
        async () => {
          worked = true;
          return { value: 0 };
        },
      ),
    ).rejects.toThrow('samples: expected an integer in 100..50000, got 5');
    expect(worked).toBe(false);
    const row = (await db.prisma.run.findFirst({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }))!;
    expect(row).toMatchObject({
      kind: 'EVALUATE',
      status: 'FAILED',
      errorCode: 'BAD_USER_INPUT',
      errorMessage: 'samples: expected an integer in 100..50000, got 5',
      progress: 0,
    });
  });

  it('records a failure of the background work as FAILED (internal details logged, not stored), keeping the last progress', async () => {
    const job = await runs.startJob(
      { kind: 'EVALUATE', parameters: {} },
      async () => undefined,
      async (_p, ctx) => {
        ctx.progress(0.4);
        await new Promise((resolve) => setTimeout(resolve, 300));
        throw new Error('scorer exploded: secret path /etc/x');
      },
    );
    expect(await job.done).toBe('FAILED');
    const row = await rowOf(job.runId);
    expect(row).toMatchObject({
      status: 'FAILED',
      errorCode: 'INTERNAL_SERVER_ERROR',
      errorMessage: `Internal error; see the server log for run ${job.runId}`,
      progress: 0.4,
    });
    expect(logged.at(-1)).toContain('scorer exploded');
  });

  it('interruptJobs aborts running work and records it INTERRUPTED with the reason; onJobsIdle then resolves at once', async () => {
    const steps: number[] = [];
    const job = await runs.startJob(
      { kind: 'EVALUATE', parameters: {} },
      async () => undefined,
      async (_p, ctx) => {
        for (let i = 0; ; i++) {
          ctx.signal.throwIfAborted();
          steps.push(i);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      },
    );
    await expect.poll(() => steps.length).toBeGreaterThan(2);
    await runs.interruptJobs('the server stopped');
    expect(await job.done).toBe('INTERRUPTED');
    const row = await rowOf(job.runId);
    expect(row).toMatchObject({ status: 'INTERRUPTED', errorMessage: 'the server stopped', errorCode: null });
    expect(row.finishedAt).toBeInstanceOf(Date);
    const stepsAtStop = steps.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(steps.length).toBe(stepsAtStop);
    await runs.onJobsIdle();
    expect(runs.activeJobs).toBe(0);
  });

  it('onJobsIdle waits for every running job', async () => {
    const finished: string[] = [];
    const start = (ms: number) =>
      runs.startJob(
        { kind: 'EVALUATE', parameters: { ms } },
        async () => undefined,
        async () => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          finished.push(String(ms));
          return { value: ms };
        },
      );
    await Promise.all([start(50), start(150)]);
    expect(runs.activeJobs).toBe(2);
    await runs.onJobsIdle();
    expect(finished.sort()).toEqual(['150', '50']);
    expect(runs.activeJobs).toBe(0);
  });
});
