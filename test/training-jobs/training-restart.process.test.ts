import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, gqlData, killHard, startGanql, type GanqlProcess } from '../helpers/ganql-process';
import { MODELS_DIR, tempModelsDir } from '../helpers/server';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-training-process-'));
const modelsDir = tempModelsDir(dir);
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

type Started = GanqlProcess;

/** ganql's entry (src/main.ts through tsx) as a real process on an ephemeral port, training into the temporary folders. */
async function startProcess(env: Record<string, string> = {}): Promise<Started> {
  const p = await startGanql(
    {
      DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`,
      // Jobs are started and read without a key here; auth has its own tests (test/server/auth.http.test.ts).
      GANQL_ANONYMOUS_SCOPES: 'admin',
      GANQL_MODELS_DIR: modelsDir,
      GANQL_SCORERS_DIR: path.join(MODELS_DIR, 'scorers'),
      GANQL_TRAINING_DIR: path.join(dir, 'training'),
      ...env,
    },
    90_000,
  );
  children.push(p.child);
  return p;
}

const gql = <T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> => gqlData<T>(url, '', query, variables);

interface JobOut {
  state: string;
  epochsCompleted: number;
  modelId: string | null;
  error: string | null;
  epochs: { epoch: number }[];
  run: { status: string; errorMessage: string | null };
}

const job = async (url: string, id: string): Promise<JobOut> =>
  (
    await gql<{ trainingJob: JobOut }>(
      url,
      'query($id: ID!) { trainingJob(id: $id) { state epochsCompleted modelId error epochs { epoch } run { status errorMessage } } }',
      { id },
    )
  ).trainingJob;

/** Polls the job until `test` holds; returns it. */
async function waitForJob(url: string, id: string, test: (job: JobOut) => boolean, timeoutMs = 180_000): Promise<JobOut> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const j = await job(url, id);
    if (test(j)) return j;
    if (performance.now() > until) throw new Error(`job ${id} did not get there within ${timeoutMs} ms: ${JSON.stringify(j)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const START = 'mutation($input: StartTrainingInput!) { startTraining(input: $input) { id state } }';
const FINE_TUNE = { fineTuneFrom: 'dcgan-mnist@2026-12-06T04-16', batchSize: 32, limit: 64 };

describe('training jobs across restarts of the real process', () => {
  it('kill -9 mid-job: the next start resumes it from its checkpoint and it finishes; SIGTERM: INTERRUPTED, then resumed; resume off: INTERRUPTED saying so', async () => {
    // 1. kill -9 after an epoch: resumed, finished, every epoch once.
    const first = await startProcess();
    const { startTraining: a } = await gql<{ startTraining: { id: string } }>(first.url, START, { input: { ...FINE_TUNE, epochs: 5 } });
    const before = await waitForJob(first.url, a.id, (j) => j.epochsCompleted >= 1);
    expect(before.state).toBe('RUNNING');
    await killHard(first);

    const second = await startProcess();
    expect(second.log()).toContain('"training job resumed"');
    const resumedAt = await job(second.url, a.id);
    expect(['QUEUED', 'RUNNING', 'SUCCEEDED']).toContain(resumedAt.state);
    expect(resumedAt.run.status).toBe(resumedAt.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'RUNNING');
    const done = await waitForJob(second.url, a.id, (j) => j.state !== 'RUNNING' && j.state !== 'QUEUED');
    expect(done).toMatchObject({ state: 'SUCCEEDED', epochsCompleted: 5, error: null, run: { status: 'SUCCEEDED', errorMessage: null } });
    expect(done.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    const made = await gql<{ samples: { modelId: string }[] }>(second.url, 'query($m: ID!) { samples(modelId: $m, count: 2) { modelId } }', {
      m: done.modelId,
    });
    expect(made.samples.map((s) => s.modelId)).toEqual([done.modelId, done.modelId]);

    // 2. SIGTERM mid-job: the job stops after its step, INTERRUPTED with the promise to resume; exit 0.
    const { startTraining: b } = await gql<{ startTraining: { id: string } }>(second.url, START, { input: { ...FINE_TUNE, epochs: 1000 } });
    await waitForJob(second.url, b.id, (j) => j.epochsCompleted >= 1);
    const stopped = exited(second.child);
    second.child.kill('SIGTERM');
    expect(await stopped).toEqual({ code: 0, signal: null });
    const db = new BetterSqlite3(path.join(dir, 'ganql.db'), { readonly: true });
    const row = db
      .prepare(
        'SELECT j.state, j.error, j.resumeOnStart, j.epochsCompleted, r.status, r.errorMessage FROM TrainingJob j JOIN Run r ON r.id = j.id WHERE j.id = ?',
      )
      .get(b.id) as Record<string, unknown>;
    db.close();
    expect(row).toMatchObject({ state: 'INTERRUPTED', resumeOnStart: 1, status: 'INTERRUPTED', errorMessage: row.error });
    expect(row.error).toBe(
      `the server stopped during epoch ${Number(row.epochsCompleted) + 1} of 1000; it resumes from its checkpoint after epoch ${String(row.epochsCompleted)} when the server starts again`,
    );

    // 3. The next start resumes it: RUNNING again, as the same job and run, past the epochs it had.
    const third = await startProcess();
    const resumed = await job(third.url, b.id);
    expect(resumed.run.status).toBe('RUNNING');
    const interruptedAfter = resumed.epochsCompleted;
    expect(interruptedAfter).toBeGreaterThanOrEqual(1);
    expect(third.log()).toContain('"training job resumed"');
    const moving = await waitForJob(third.url, b.id, (j) => j.epochsCompleted > interruptedAfter);
    expect(moving.state).toBe('RUNNING');
    expect(moving.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: moving.epochsCompleted }, (_, i) => i + 1));
    await killHard(third);

    // 4. With GANQL_RESUME_TRAINING=false the job left RUNNING is INTERRUPTED with the reason, never RUNNING.
    const fourth = await startProcess({ GANQL_RESUME_TRAINING: 'false' });
    const ended = await job(fourth.url, b.id);
    expect(ended.state).toBe('INTERRUPTED');
    expect(ended.error).toMatch(/^resume disabled \(GANQL_RESUME_TRAINING=false\)/);
    expect(ended.run).toEqual({ status: 'INTERRUPTED', errorMessage: ended.error });
    const running = await gql<{ trainingJobs: { totalCount: number }; runs: { totalCount: number } }>(
      fourth.url,
      '{ trainingJobs(status: RUNNING) { totalCount } runs(filter: { status: RUNNING }) { totalCount } }',
    );
    expect(running).toEqual({ trainingJobs: { totalCount: 0 }, runs: { totalCount: 0 } });
    const last = exited(fourth.child);
    fourth.child.kill('SIGTERM');
    expect(await last).toEqual({ code: 0, signal: null });
  });
});
