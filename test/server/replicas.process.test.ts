import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, gqlData, startGanql } from '../helpers/ganql-process';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';
import { MODELS_DIR, tempModelsDir } from '../helpers/server';
import { subscribe, wsClient } from '../training-jobs/graphql-ws-client';

const pgServer = postgresUrl();

interface Replica {
  name: string;
  child: ChildProcessWithoutNullStreams;
  url: string;
  log: () => string;
}

const START = 'mutation($input: StartTrainingInput!) { startTraining(input: $input) { id state } }';
const EVENTS = 'subscription($id: ID!) { trainingProgress(jobId: $id) { type state modelId epoch { epoch } } }';
type EventOut = { trainingProgress: { type: string; state: string; modelId: string | null; epoch: { epoch: number } | null } };

const gql = <T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> => gqlData<T>(url, '', query, variables);

describe.skipIf(!pgServer)('two ganql replicas on one PostgreSQL database (GANQL_TEST_POSTGRES_URL)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-replicas-'));
  const modelsDir = tempModelsDir(dir);
  const children: ChildProcessWithoutNullStreams[] = [];
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;

  beforeAll(async () => {
    db = await createTempDatabase(pgServer!);
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await pg?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** ganql's entry (src/main.ts through tsx) as a real process, sharing the database and the models and training folders. */
  async function startReplica(name: string): Promise<Replica> {
    const p = await startGanql(
      {
        DATABASE_URL: db.url,
        GANQL_ANONYMOUS_SCOPES: 'admin',
        GANQL_MODELS_DIR: modelsDir,
        GANQL_SCORERS_DIR: path.join(MODELS_DIR, 'scorers'),
        GANQL_TRAINING_DIR: path.join(dir, 'training'),
        GANQL_MAX_TRAINING_JOBS: '1',
        GANQL_INFERENCE_WORKERS: '0',
        // A killed replica is taken for dead after 1.5 s instead of 30 s.
        GANQL_REPLICA_HEARTBEAT_MS: '300',
        GANQL_REPLICA_TIMEOUT_MS: '1500',
      },
      90_000,
      name,
    );
    children.push(p.child);
    return { name, ...p };
  }

  /** Log lines of `replica` with this message about this job. */
  const logged = (replica: Replica, message: string, jobId: string) =>
    replica
      .log()
      .split('\n')
      .filter((line) => line.includes(`"${message}"`) && line.includes(jobId)).length;

  async function row(id: string): Promise<{ state: string; starts: number; owner: string | null; epochs: number[]; run: string }> {
    const job = (await pg.query('SELECT j.state, j.starts, j.owner, r.status FROM "TrainingJob" j JOIN "Run" r ON r.id = j.id WHERE j.id = $1', [id])).rows[0];
    const epochs = (await pg.query('SELECT epoch FROM "TrainingEpoch" WHERE "jobId" = $1 ORDER BY epoch', [id])).rows.map((r: { epoch: number }) => r.epoch);
    return { state: job.state, starts: job.starts, owner: job.owner, epochs, run: job.status };
  }

  // A job's row and its run end in one transaction: whenever the row has ended, so has the run.
  const ended = (r: { state: string; run: string }): boolean => {
    const over = r.state !== 'QUEUED' && r.state !== 'RUNNING';
    if (over) expect(r.run, `run of a ${r.state} job`).not.toBe('RUNNING');
    return over;
  };

  async function waitFor<T>(what: string, read: () => Promise<T>, test: (value: T) => boolean, timeoutMs = 120_000): Promise<T> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (test(value)) return value;
      if (performance.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('runs each job exactly once across both replicas, streams and serves across them, cancels across them, and finishes the job of a replica killed with -9', async () => {
    const [a, b] = await Promise.all([startReplica('a'), startReplica('b')]);
    pg = new Client({ connectionString: db.url });
    await pg.connect();

    // 1. Four jobs, started alternately on a and b, each followed over graphql-ws on a.
    const clients = [wsClient(a.url)];
    const jobs: { id: string; stream: ReturnType<typeof subscribe<EventOut>> }[] = [];
    for (let i = 0; i < 4; i += 1) {
      const on = i % 2 === 0 ? a : b;
      const { startTraining } = await gql<{ startTraining: { id: string; state: string } }>(on.url, START, {
        input: { name: `replica-mlp-${i}`, architecture: 'MLP', epochs: 2, batchSize: 32, limit: 64, seed: i },
      });
      expect(['QUEUED', 'RUNNING']).toContain(startTraining.state);
      jobs.push({ id: startTraining.id, stream: subscribe<EventOut>(clients[0], EVENTS, { id: startTraining.id }) });
    }
    for (const job of jobs) await waitFor(`job ${job.id}`, () => row(job.id), ended);
    await Promise.all(jobs.map((job) => job.stream.done));
    await clients[0].dispose();

    const ranOn = { a: 0, b: 0 };
    for (const job of jobs) {
      // Exactly once: one claim, one worker start in one replica's log, each epoch recorded once.
      expect(await row(job.id)).toEqual({ state: 'SUCCEEDED', starts: 1, owner: null, epochs: [1, 2], run: 'SUCCEEDED' });
      const starts = [logged(a, 'training job started', job.id), logged(b, 'training job started', job.id)];
      expect(starts.sort()).toEqual([0, 1]);
      ranOn[logged(a, 'training job started', job.id) === 1 ? 'a' : 'b'] += 1;
      const events = job.stream.results.map((r) => r.data!.trainingProgress);
      expect(events.filter((e) => e.type === 'EPOCH').map((e) => e.epoch!.epoch)).toEqual([1, 2]);
      expect(events.at(-1)).toMatchObject({ type: 'END', state: 'SUCCEEDED' });
      // The version is served by both replicas (the one that did not train it loads it from the shared folder).
      const modelId = events.at(-1)!.modelId!;
      for (const replica of [a, b]) {
        const made = await waitFor(
          `${modelId} on ${replica.name}`,
          () => gql<{ models: { id: string }[] }>(replica.url, '{ models { id } }'),
          (m) => m.models.some((x) => x.id === modelId),
          10_000,
        );
        expect(made.models.map((m) => m.id)).toContain(modelId);
        const samples = await gql<{ samples: { modelId: string }[] }>(replica.url, 'query($m: ID!) { samples(modelId: $m, count: 2) { modelId } }', {
          m: modelId,
        });
        expect(samples.samples.map((s) => s.modelId)).toEqual([modelId, modelId]);
      }
    }
    // With one slot each and four jobs queued at once, both replicas trained.
    expect(ranOn.a).toBeGreaterThanOrEqual(1);
    expect(ranOn.b).toBeGreaterThanOrEqual(1);
    console.log(`jobs per replica: ${JSON.stringify(ranOn)}`);

    // 2. Cancel a running job through the replica that does not run it: the flag reaches its runner, which stops it.
    const { startTraining: endless } = await gql<{ startTraining: { id: string } }>(a.url, START, {
      input: { name: 'replica-mlp-cancel', architecture: 'MLP', epochs: 1000, batchSize: 32, limit: 64, seed: 5 },
    });
    await waitFor(
      'a running epoch',
      () => row(endless.id),
      (r) => r.state === 'RUNNING' && r.epochs.length >= 1,
    );
    const runner = [a, b].find((r) => logged(r, 'training job started', endless.id) === 1)!;
    const other = runner === a ? b : a;
    const cancelledAt = performance.now();
    await gql(other.url, 'mutation($id: ID!) { cancelTraining(id: $id) { id } }', { id: endless.id });
    const cancelled = await waitFor('cross-replica cancel', () => row(endless.id), ended, 30_000);
    console.log(`cancelled on ${other.name}, stopped by ${runner.name} ${((performance.now() - cancelledAt) / 1000).toFixed(1)} s later`);
    expect(cancelled).toMatchObject({ state: 'CANCELLED', starts: 1, owner: null, run: 'CANCELLED' });
    expect(cancelled.epochs.length).toBeGreaterThanOrEqual(1);
    expect(cancelled.epochs.length).toBeLessThan(1000);

    // 3. A longer job: kill -9 the replica that runs it after its first epoch; the other takes it over from the checkpoint.
    const { startTraining: long } = await gql<{ startTraining: { id: string } }>(a.url, START, {
      input: { name: 'replica-mlp-long', architecture: 'MLP', epochs: 6, batchSize: 32, limit: 64, seed: 7 },
    });
    const running = await waitFor(
      'first epoch',
      () => row(long.id),
      (r) => r.state === 'RUNNING' && r.epochs.length >= 1,
    );
    const victim = [a, b].find((r) => logged(r, 'training job started', long.id) === 1)!;
    const survivor = victim === a ? b : a;
    expect(running.owner).not.toBeNull();
    const gone = exited(victim.child);
    victim.child.kill('SIGKILL');
    expect((await gone).signal).toBe('SIGKILL');
    const killedAt = performance.now();

    const done = await waitFor('take-over', () => row(long.id), ended);
    console.log(`killed replica's job finished on the other ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    expect(done).toEqual({ state: 'SUCCEEDED', starts: 2, owner: null, epochs: [1, 2, 3, 4, 5, 6], run: 'SUCCEEDED' });
    expect(survivor.log()).toContain('"training job of a stopped replica queued again"');
    expect(logged(survivor, 'training job started', long.id)).toBe(1);
    const resumedLine = survivor
      .log()
      .split('\n')
      .find((line) => line.includes('"training job started"') && line.includes(long.id))!;
    expect(JSON.parse(resumedLine)).toMatchObject({ resume: true });
    expect(JSON.parse(resumedLine).epochsCompleted).toBeGreaterThanOrEqual(1);

    // Nothing stuck: no run or job RUNNING once the killed replica's work is taken over.
    const stuck = await waitFor(
      'no RUNNING rows',
      async () =>
        (
          await pg.query(
            `SELECT (SELECT count(*) FROM "Run" WHERE status = 'RUNNING') AS runs, (SELECT count(*) FROM "TrainingJob" WHERE state IN ('QUEUED', 'RUNNING')) AS jobs`,
          )
        ).rows[0],
      (r: { runs: string; jobs: string }) => r.runs === '0' && r.jobs === '0',
      10_000,
    );
    expect(stuck).toEqual({ runs: '0', jobs: '0' });

    const stopped = exited(survivor.child);
    survivor.child.kill('SIGTERM');
    expect(await stopped).toEqual({ code: 0, signal: null });
  }, 240_000);
});
