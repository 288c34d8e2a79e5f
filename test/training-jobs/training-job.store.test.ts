import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/log/logger';
import { JobEndedError } from '../../src/runs/job-runner';
import { RunService } from '../../src/runs/run.service';
import { recoverTrainingJobs } from '../../src/training-jobs/training-job.service';
import { TrainingJobStore } from '../../src/training-jobs/training-job.store';
import { checkTrainingSpec } from '../../src/training/training-spec';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-training-store-'));
let db: Database;
let runs: RunService;
let store: TrainingJobStore;
const spec = checkTrainingSpec({ architecture: 'mlp', epochs: 3, limit: 64 });
const png = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);

beforeAll(async () => {
  db = openDatabase(`file:${path.join(dir, 'jobs.db')}`);
  await db.migrate();
  runs = new RunService(db, 'wasm', createLogger('silent'));
  store = new TrainingJobStore(db.prisma);
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A TRAIN run left RUNNING (as by a process that died) with its job row in `state`. */
async function orphan(
  name: string,
  state: 'QUEUED' | 'RUNNING' | 'INTERRUPTED',
  options: { started: boolean; checkpoint: boolean; resumeOnStart?: boolean },
): Promise<string> {
  let id = '';
  const job = await runs.startJob(
    { kind: 'TRAIN', parameters: { name } },
    async (run) => (id = run.runId),
    () => new Promise<never>(() => undefined),
  );
  const folder = path.join(dir, 'jobs', job.runId);
  await store.create({ id, name, version: 'v', spec, parentModelId: null, folder });
  if (options.started) await store.setRunning(id, new Date());
  if (state === 'INTERRUPTED') await store.finish(id, { state, message: 'shut down', resumeOnStart: options.resumeOnStart ?? false });
  else if (state === 'QUEUED') await store.setQueued(id);
  if (options.checkpoint) {
    mkdirSync(path.join(folder, 'checkpoint'), { recursive: true });
    writeFileSync(path.join(folder, 'checkpoint', 'state.json'), '{}');
  }
  return id;
}

describe('TrainingJobStore', () => {
  it('records epochs (again on a repeat), kept versions and the end; lists newest first with paging', async () => {
    const a = await orphan('a', 'RUNNING', { started: true, checkpoint: false });
    const b = await orphan('b', 'QUEUED', { started: false, checkpoint: false });
    const epoch = {
      epoch: 1,
      generatorLoss: 0.7,
      discriminatorLoss: 1.3,
      dAccuracyReal: 0.6,
      dAccuracyFake: 0.4,
      testError: null,
      seconds: 2.5,
      imagesPerSecond: 850.5,
      // An evaluated epoch (evalEvery): its scores round-trip through their columns.
      inceptionScore: 6.875,
      inceptionScoreStd: 0.125,
      fid: 17.25,
      samplesPng: png,
    };
    await store.saveEpoch(a, epoch);
    await store.saveEpoch(a, { ...epoch, generatorLoss: 0.8 });
    await db.prisma.model.create({
      data: {
        id: 'a@v-epoch-001',
        name: 'a',
        version: 'v-epoch-001',
        architecture: 'mlp',
        dataset: 'mnist',
        latentSize: 100,
        imageHeight: 28,
        imageWidth: 28,
        imageChannels: 1,
        path: 'x',
        manifest: '{}',
      },
    });
    await store.setKept(a, 1, 'a@v-epoch-001');
    const epochs = await store.epochs(a);
    expect(epochs).toEqual([{ ...epoch, generatorLoss: 0.8, samplesPng: expect.any(Uint8Array), keptModelId: 'a@v-epoch-001' }]);
    expect([...epochs[0].samplesPng]).toEqual([...png]);
    const record = await store.get(a);
    expect(record).toMatchObject({ state: 'RUNNING', epochsCompleted: 1, keptModelIds: ['a@v-epoch-001'], spec, progress: 0 });
    expect(record.startedAt).toBeInstanceOf(Date);

    await store.finish(a, { state: 'CANCELLED', message: 'cancelled after 1 of 3 epochs' });
    expect(await store.get(a)).toMatchObject({ state: 'CANCELLED', error: 'cancelled after 1 of 3 epochs', resumeOnStart: false });
    const page = await store.list(undefined, 1, undefined);
    expect(page.jobs.map((j) => j.id)).toEqual([b]);
    expect(page.hasNextPage).toBe(true);
    expect((await store.list(undefined, 10, b)).jobs.map((j) => j.id)).toEqual([a]);
    expect((await store.list('CANCELLED', 10, undefined)).jobs.map((j) => j.id)).toEqual([a]);
    await expect(store.get('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'training job "nope" not found' });
    // Clean slate for the recovery tests.
    await store.finish(b, { state: 'FAILED', code: 'X', message: 'x' });
    await runs.closeInterrupted('test cleanup');
  });
});

describe('recoverTrainingJobs', () => {
  it('resumes jobs with a checkpoint and jobs that never started; a started job without one is INTERRUPTED, its run too', async () => {
    const withCheckpoint = await orphan('c', 'RUNNING', { started: true, checkpoint: true });
    const neverStarted = await orphan('q', 'QUEUED', { started: false, checkpoint: false });
    const noCheckpoint = await orphan('n', 'RUNNING', { started: true, checkpoint: false });
    const shutDown = await orphan('s', 'INTERRUPTED', { started: true, checkpoint: true, resumeOnStart: true });
    const notPromised = await orphan('i', 'INTERRUPTED', { started: true, checkpoint: true, resumeOnStart: false });
    // What the shutdown did to the run: INTERRUPTED already.
    await runs.markInterrupted(shutDown, 'shut down');
    await runs.markInterrupted(notPromised, 'shut down');

    const recovered = await recoverTrainingJobs(store, runs, { jobsDir: dir, maxJobs: 1, resume: true, threads: 1 }, createLogger('silent'));
    expect(recovered.map((r) => [r.record.id, r.resume])).toEqual([
      [withCheckpoint, true],
      [neverStarted, false],
      [shutDown, true],
    ]);
    const reason = 'no checkpoint: the server stopped before the first epoch ended';
    expect(await store.get(noCheckpoint)).toMatchObject({ state: 'INTERRUPTED', error: reason, resumeOnStart: false });
    expect(await runs.get(noCheckpoint)).toMatchObject({ status: 'INTERRUPTED', errorMessage: reason });

    // Runs of jobs to resume stay open; the rest close as before.
    expect(
      await runs.closeInterrupted(
        'the process stopped',
        recovered.map((r) => r.record.id),
      ),
    ).toBe(0);
    expect((await runs.get(withCheckpoint)).status).toBe('RUNNING');

    // A resumed job is the same run, RUNNING again, and ends as its work says.
    const resumed = await runs.resumeJob(shutDown, async () => {
      throw new JobEndedError('CANCELLED', 'cancelled after 2 of 3 epochs');
    });
    expect(await resumed.done).toBe('CANCELLED');
    expect(await runs.get(shutDown)).toMatchObject({ status: 'CANCELLED', errorMessage: 'cancelled after 2 of 3 epochs', kind: 'TRAIN' });
    const finished = await runs.resumeJob(withCheckpoint, async (job) => {
      expect((await runs.get(job.runId)).status).toBe('RUNNING');
      return { value: 1, result: { modelId: null } };
    });
    expect(await finished.done).toBe('SUCCEEDED');
    expect(await runs.get(withCheckpoint)).toMatchObject({ status: 'SUCCEEDED', progress: 1, errorMessage: null, result: '{"modelId":null}' });
    for (const id of [neverStarted]) await store.finish(id, { state: 'FAILED', code: 'X', message: 'x' });
    await runs.closeInterrupted('test cleanup');
  });

  it('with resume disabled, marks every left-behind job INTERRUPTED saying so', async () => {
    const a = await orphan('r1', 'RUNNING', { started: true, checkpoint: true });
    const b = await orphan('r2', 'INTERRUPTED', { started: true, checkpoint: true, resumeOnStart: true });
    const recovered = await recoverTrainingJobs(store, runs, { jobsDir: dir, maxJobs: 1, resume: false, threads: 1 }, createLogger('silent'));
    expect(recovered).toEqual([]);
    for (const id of [a, b]) {
      const job = await store.get(id);
      expect(job).toMatchObject({ state: 'INTERRUPTED', resumeOnStart: false });
      expect(job.error).toMatch(/^resume disabled \(GANQL_RESUME_TRAINING=false\)/);
      expect((await runs.get(id)).status).toBe('INTERRUPTED');
    }
    expect(await store.unfinished()).toEqual([]);
  });
});
