/**
 * The production build: scripts/build.mjs compiles src/ to dist/, and `node dist/main.js` (what
 * `npm start` runs) serves over HTTP with no TypeScript loader, its worker threads (the inference
 * pool's, a one-shot analysis worker's, a training job's) running compiled JavaScript, with the same
 * answers as the sources give in process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, gqlData, startGanql, type GanqlProcess } from '../helpers/ganql-process';
import { MODELS_DIR, startTestServer, tempModelsDir } from '../helpers/server';

const ROOT = path.resolve(__dirname, '../..');
const STAMP = path.join(ROOT, 'dist', '.build.json');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-compiled-'));
let compiled: GanqlProcess | undefined;

/** Runs the build as `npm start` does; returns what it printed on stderr. */
function build(): string {
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`scripts/build.mjs exited with ${result.status}: ${result.stderr}`);
  return result.stderr;
}

beforeAll(() => {
  build();
});

afterAll(() => {
  if (compiled !== undefined && compiled.child.exitCode === null) compiled.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const SHIPPED = 'dcgan-mnist@2026-12-06T04-16';
const SAMPLES = `{ samples(modelId: "${SHIPPED}", count: 2, seed: 7) { modelId index image { width height dataUrl } } }`;
const conceptFilters = (modelId: string) =>
  `{ conceptFilters(modelId: "${modelId}", layer: "g_up1_relu", concept: "1", count: 2, samples: 50, checkSamples: 10) { c samples conceptSamples positiveFilters filters { filter weight } check { samples conceptSamples } } }`;

interface Samples {
  samples: { modelId: string; index: number; image: { width: number; height: number; dataUrl: string } }[];
}

interface Job {
  state: string;
  epochsCompleted: number;
  modelId: string | null;
  error: string | null;
}

/** Polls the training job until it is neither queued nor running. */
async function finished(url: string, id: string): Promise<Job> {
  for (;;) {
    const { trainingJob } = await gqlData<{ trainingJob: Job }>(url, '', `{ trainingJob(id: "${id}") { state epochsCompleted modelId error } }`);
    if (trainingJob.state !== 'QUEUED' && trainingJob.state !== 'RUNNING') return trainingJob;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the compiled build', () => {
  it('builds once: a second run with unchanged sources leaves dist/ as it is', () => {
    const before = readFileSync(STAMP, 'utf8');
    expect(build()).toBe('');
    expect(readFileSync(STAMP, 'utf8')).toBe(before);
  });

  it('node dist/main.js serves samples, an analysis and a training job from compiled workers, as the sources do, and stops cleanly', async () => {
    compiled = await startGanql(
      {
        DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`,
        // A copy of the shipped DCGAN: the trained version goes there.
        GANQL_MODELS_DIR: tempModelsDir(dir),
        GANQL_SCORERS_DIR: path.join(MODELS_DIR, 'scorers'),
        GANQL_TRAINING_DIR: path.join(dir, 'training'),
        GANQL_ANONYMOUS_SCOPES: 'admin',
        // No loader from the environment either: the process runs what dist/ holds.
        NODE_OPTIONS: '',
      },
      90_000,
      'compiled ganql',
      'compiled',
    );
    const cmdline = readFileSync(`/proc/${compiled.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(cmdline).toEqual([process.execPath, 'dist/main.js']);

    const info = await gqlData<{ serverInfo: { runtime: string; backend: string } }>(compiled.url, '', '{ serverInfo { runtime backend } }');
    expect(info.serverInfo.runtime).toBe('compiled');
    expect(info.serverInfo.backend).toMatch(/wasm$/);
    const health = await fetch(compiled.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);

    const served = await gqlData<Samples>(compiled.url, '', SAMPLES);
    expect(served.samples.map((s) => [s.index, s.image.width, s.image.height])).toEqual([
      [0, 28, 28],
      [1, 28, 28],
    ]);
    expect(served.samples[0].modelId).toBe(SHIPPED);
    expect(served.samples[0].image.dataUrl).toMatch(/^data:image\/png;base64,iVBOR/);
    const analysis = await gqlData<Record<string, unknown>>(compiled.url, '', conceptFilters(SHIPPED));

    const { startTraining } = await gqlData<{ startTraining: { id: string } }>(
      compiled.url,
      '',
      'mutation { startTraining(input: { architecture: MLP, epochs: 1, limit: 512, batchSize: 32, seed: 3, name: "compiled-mlp" }) { id } }',
    );
    const job = await finished(compiled.url, startTraining.id);
    expect(job).toMatchObject({ state: 'SUCCEEDED', epochsCompleted: 1, error: null });
    const trained = await gqlData<Samples>(
      compiled.url,
      '',
      `{ samples(modelId: "${job.modelId}", count: 1) { modelId index image { width height dataUrl } } }`,
    );
    expect(trained.samples.map((s) => [s.modelId, s.image.width])).toEqual([[job.modelId, 28]]);

    const gone = exited(compiled.child);
    compiled.child.kill('SIGTERM');
    expect(await gone).toEqual({ code: 0, signal: null });
    expect(compiled.log()).toContain('"shutting down"');

    // The same queries answered by the TypeScript sources in this process (same engine, same seeds).
    const sources = await startTestServer();
    try {
      const fromSources = await sources.gql<{ serverInfo: { runtime: string; backend: string } } & Samples>(
        `{ serverInfo { runtime backend } ${SAMPLES.slice(1, -1)} }`,
      );
      expect(fromSources.data?.serverInfo).toEqual({ runtime: 'sources', backend: info.serverInfo.backend });
      expect(fromSources.data?.samples).toEqual(served.samples);
      expect((await sources.gql(conceptFilters(SHIPPED))).data).toEqual(analysis);
    } finally {
      await sources.stop();
    }
  });
});
