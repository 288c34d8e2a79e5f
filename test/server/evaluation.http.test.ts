import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist';
import { decodePng, quantize } from '../../src/images/png';
import { MODELS_DIR, startTestServer, type TestServer } from '../helpers/server';

interface RunOut {
  id: string;
  kind: string;
  status: string;
  progress: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  modelId: string | null;
}

interface EvaluationOut {
  runId: string;
  modelId: string;
  scorer: string;
  dataset: string;
  samples: number;
  seed: number;
  splits: number;
  metrics: string[];
  inceptionScore: { mean: number; std: number; splitScores: number[] } | null;
  fid: number | null;
  kid: { mean: number; std: number; subsetSize: number; subsets: number } | null;
  parzen: { mean: number; stdErr: number; sigma: number; samples: number; validationImages: number; testImages: number } | null;
  referenceImages: number | null;
  run: { id: string; status: string; kind: string };
}

const RUN = 'id kind status progress errorCode errorMessage modelId';
const EVALUATION =
  'runId modelId scorer dataset samples seed splits metrics inceptionScore { mean std splitScores } fid kid { mean std subsetSize subsets } ' +
  'parzen { mean stdErr sigma samples validationImages testImages } referenceImages run { id status kind }';

let server: TestServer;
let modelId: string;
let scorersDir: string;

async function evaluate(args: Record<string, unknown>) {
  return server.gql<{ evaluate: RunOut }>(
    `mutation($modelId: ID, $metrics: [EvaluationMetric!]!, $samples: Int, $seed: Int, $splits: Int, $scorer: String) {
      evaluate(modelId: $modelId, metrics: $metrics, samples: $samples, seed: $seed, splits: $splits, scorer: $scorer) { ${RUN} } }`,
    args,
  );
}

async function run(id: string): Promise<RunOut> {
  const body = await server.gql<{ run: RunOut }>(`query($id: ID!) { run(id: $id) { ${RUN} } }`, { id });
  expect(body.errors).toBeUndefined();
  return body.data!.run;
}

/** Polls run(id) until it leaves RUNNING; returns the final run and every progress value seen. */
async function settle(id: string): Promise<{ final: RunOut; seen: number[] }> {
  const seen: number[] = [];
  for (;;) {
    const r = await run(id);
    if (r.progress !== null) seen.push(r.progress);
    if (r.status !== 'RUNNING') return { final: r, seen };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function evaluation(runId: string) {
  return server.gql<{ evaluation: EvaluationOut }>(`query($id: ID!) { evaluation(runId: $id) { ${EVALUATION} } }`, { id: runId });
}

async function newestRun(): Promise<RunOut> {
  const body = await server.gql<{ runs: { edges: { node: RunOut }[] } }>(`{ runs(first: 1) { edges { node { ${RUN} } } } }`);
  return body.data!.runs.edges[0].node;
}

beforeAll(async () => {
  // The shipped scorers, plus a manifest that claims 3 classes for mnist (never loaded: refused first).
  scorersDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorers-'));
  cpSync(path.join(MODELS_DIR, 'scorers'), scorersDir, { recursive: true });
  cpSync(path.join(scorersDir, 'mnist-cnn'), path.join(scorersDir, 'mnist-3-classes'), { recursive: true });
  const manifestFile = path.join(scorersDir, 'mnist-3-classes', 'scorer.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(manifestFile, JSON.stringify({ ...manifest, name: 'mnist-3-classes', classes: 3 }));
  server = await startTestServer({ scorersDir });
  // The digits DCGAN: the figures below are mnist-cnn's on its training split.
  modelId = (await server.gql<{ models: { id: string }[] }>('{ models { id } }')).data!.models.find((m) => m.id.startsWith('dcgan-mnist@'))!.id;
});

afterAll(async () => {
  await server?.stop();
  rmSync(scorersDir, { recursive: true, force: true });
});

describe('scorers', () => {
  it('lists the registered scorers with their dataset, classes, input shape and test accuracy', async () => {
    const body = await server.gql<{ scorers: Record<string, unknown>[] }>(
      '{ scorers { name dataset classes classNames inputShape { height width channels } testAccuracy testExamples trainingCommand } }',
    );
    expect(body.errors).toBeUndefined();
    const mnist = body.data!.scorers.find((s) => s.name === 'mnist-cnn');
    expect(mnist).toMatchObject({
      dataset: 'mnist',
      classes: 10,
      classNames: null,
      inputShape: { height: 28, width: 28, channels: 1 },
      testAccuracy: 0.984,
      testExamples: 1000,
    });
    expect(mnist!.trainingCommand).toMatch(/train-scorer\.cli\.ts --dataset mnist/);
    expect(body.data!.scorers.map((s) => s.name)).toEqual(['fashion-mnist-cnn', 'mnist-3-classes', 'mnist-cnn']);
  });
});

describe('evaluate', () => {
  let first: EvaluationOut;

  it('runs in the background with progress, stores finite results, and /metrics exports them', async () => {
    const body = await evaluate({ metrics: ['INCEPTION_SCORE', 'FID', 'KID', 'PARZEN'], samples: 200, splits: 2, seed: 0 });
    expect(body.errors).toBeUndefined();
    const started = body.data!.evaluate;
    expect(started).toMatchObject({ kind: 'EVALUATE', modelId });
    expect(['RUNNING', 'SUCCEEDED']).toContain(started.status);
    expect(started.progress).toBeGreaterThanOrEqual(0);

    const { final, seen } = await settle(started.id);
    expect(final).toMatchObject({ status: 'SUCCEEDED', progress: 1, errorCode: null });
    // Progress only goes forward.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const result = await evaluation(started.id);
    expect(result.errors).toBeUndefined();
    first = result.data!.evaluation;
    expect(first).toMatchObject({
      runId: started.id,
      modelId,
      scorer: 'mnist-cnn',
      dataset: 'mnist',
      samples: 200,
      seed: 0,
      splits: 2,
      metrics: ['INCEPTION_SCORE', 'FID', 'KID', 'PARZEN'],
      referenceImages: 9000,
      run: { id: started.id, status: 'SUCCEEDED', kind: 'EVALUATE' },
    });
    const is = first.inceptionScore!;
    // Between noise (1) and the 10 classes; a trained DCGAN scores well above 1.
    expect(is.mean).toBeGreaterThan(3);
    expect(is.mean).toBeLessThan(10);
    expect(is.splitScores).toHaveLength(2);
    expect(is.mean).toBeCloseTo((is.splitScores[0] + is.splitScores[1]) / 2, 12);
    expect(is.std).toBeCloseTo(Math.abs(is.splitScores[0] - is.splitScores[1]) / 2, 12);
    expect(Number.isFinite(first.fid)).toBe(true);
    expect(first.fid).toBeGreaterThan(0);
    expect(first.kid).toMatchObject({ subsetSize: 200, subsets: 100 });
    expect(Number.isFinite(first.kid!.mean) && first.kid!.std >= 0).toBe(true);
    expect(first.parzen).toMatchObject({ samples: 200, validationImages: 500, testImages: 500 });
    expect(Number.isFinite(first.parzen!.mean)).toBe(true);
    expect(first.parzen!.stdErr).toBeGreaterThan(0);
    // sigma comes from the grid 10^linspace(-1, 0, 10).
    expect(Array.from({ length: 10 }, (_, i) => 10 ** (-1 + i / 9)).some((s) => Math.abs(s - first.parzen!.sigma) < 1e-12)).toBe(true);

    const metrics = (await server.http.get('/metrics')).text;
    const labels = `model="${modelId}",scorer="mnist-cnn"`;
    const value = (series: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(`${series} `))
          ?.split(' ')[1],
      );
    expect(value(`ganql_evaluation_inception_score{${labels}}`)).toBe(is.mean);
    expect(value(`ganql_evaluation_fid{${labels}}`)).toBe(first.fid);
    expect(value(`ganql_evaluation_kid{${labels}}`)).toBe(first.kid!.mean);
    expect(value(`ganql_evaluation_parzen_log_likelihood{model="${modelId}"}`)).toBe(first.parzen!.mean);
    expect(value(`ganql_evaluation_timestamp_seconds{${labels}}`)).toBeGreaterThan(Date.now() / 1000 - 600);
  });

  it('caches the reference statistics of the training split once per scorer version, in the database', async () => {
    const rows = await server.ganql.database.prisma.referenceStats.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ scorer: 'mnist-cnn', dataset: 'mnist', split: 'train', count: 9000, dim: 128, featureCount: 9000 });
    expect(rows[0].mean.length).toBe(128 * 8);
    expect(rows[0].cov.length).toBe(128 * 128 * 8);
    expect(rows[0].features.length).toBe(9000 * 128 * 4);
    expect(rows[0].scorerDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same numbers for the same seed (fixed noise, cached reference), other numbers for another seed, and lists them newest first', async () => {
    const again = (await evaluate({ modelId, metrics: ['INCEPTION_SCORE', 'FID'], samples: 200, splits: 2, seed: 0 })).data!.evaluate;
    expect((await settle(again.id)).final.status).toBe('SUCCEEDED');
    const other = (await evaluate({ modelId, metrics: ['INCEPTION_SCORE'], samples: 100, splits: 1, seed: 1 })).data!.evaluate;
    expect((await settle(other.id)).final.status).toBe('SUCCEEDED');
    const same = (await evaluation(again.id)).data!.evaluation;
    expect(same.inceptionScore).toEqual(first.inceptionScore);
    expect(same.fid).toBe(first.fid);
    expect(same).toMatchObject({ kid: null, parzen: null, metrics: ['INCEPTION_SCORE', 'FID'] });
    const differ = (await evaluation(other.id)).data!.evaluation;
    expect(differ.inceptionScore!.splitScores).toHaveLength(1);
    expect(differ.inceptionScore!.mean).not.toBe(first.inceptionScore!.mean);
    expect(differ).toMatchObject({ fid: null, referenceImages: null });
    expect(await server.ganql.database.prisma.referenceStats.count()).toBe(1);

    const history = await server.gql<{ evaluations: { runId: string; samples: number }[] }>(
      'query($m: ID) { evaluations(modelId: $m, first: 10) { runId samples } }',
      { m: modelId },
    );
    expect(history.data!.evaluations.map((e) => e.runId)).toEqual([other.id, again.id, first.runId]);
    const page = await server.gql<{ evaluations: { runId: string }[] }>('{ evaluations(first: 1) { runId } }');
    expect(page.data!.evaluations.map((e) => e.runId)).toEqual([other.id]);
    expect((await server.gql('query($m: ID) { evaluations(modelId: $m) { runId } }', { m: 'nobody@0' })).data).toEqual({ evaluations: [] });
  });

  it('evaluation(runId) is NOT_FOUND for an unknown id, and says so while the run is not finished', async () => {
    const unknown = await evaluation('no-such-run');
    expect(unknown.errors?.[0]).toMatchObject({ message: 'evaluation "no-such-run" not found', extensions: { code: 'NOT_FOUND' } });
    const failed = (await evaluate({ metrics: ['INCEPTION_SCORE'], samples: 5 })).errors;
    expect(failed?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const failedRun = await newestRun();
    const pending = await evaluation(failedRun.id);
    expect(pending.errors?.[0]).toMatchObject({ message: `evaluation "${failedRun.id}" not found: its run is FAILED`, extensions: { code: 'NOT_FOUND' } });
  });
});

describe('bad input to evaluate', () => {
  const all = ['INCEPTION_SCORE', 'FID', 'KID', 'PARZEN'];
  const cases: { name: string; args: () => Record<string, unknown>; code: string; message: RegExp }[] = [
    { name: 'an unknown model', args: () => ({ modelId: 'nobody@0', metrics: all }), code: 'NOT_FOUND', message: /^model "nobody@0" not found$/ },
    {
      name: 'an unknown scorer',
      args: () => ({ metrics: all, scorer: 'inception-v9' }),
      code: 'BAD_USER_INPUT',
      message: /^scorer: expected one of fashion-mnist-cnn, mnist-3-classes, mnist-cnn, got "inception-v9"$/,
    },
    {
      name: '99 samples',
      args: () => ({ metrics: all, samples: 99 }),
      code: 'BAD_USER_INPUT',
      message: /^samples: expected an integer in 100\.\.50000, got 99$/,
    },
    {
      name: '50,001 samples',
      args: () => ({ metrics: all, samples: 50_001 }),
      code: 'BAD_USER_INPUT',
      message: /^samples: expected an integer in 100\.\.50000, got 50001$/,
    },
    { name: '0 splits', args: () => ({ metrics: all, splits: 0 }), code: 'BAD_USER_INPUT', message: /^splits: expected an integer in 1\.\.50, got 0$/ },
    { name: '51 splits', args: () => ({ metrics: all, splits: 51 }), code: 'BAD_USER_INPUT', message: /^splits: expected an integer in 1\.\.50, got 51$/ },
    {
      name: 'no metrics',
      args: () => ({ metrics: [] }),
      code: 'BAD_USER_INPUT',
      message: /^metrics: expected at least one of INCEPTION_SCORE, FID, KID, PARZEN, got none$/,
    },
    {
      name: 'a negative seed',
      args: () => ({ metrics: all, seed: -1 }),
      code: 'BAD_USER_INPUT',
      message: /^seed: expected an integer in 0\.\.2147483647, got -1$/,
    },
    {
      name: 'a scorer of another dataset (Fashion-MNIST classes for digits)',
      args: () => ({ metrics: all, scorer: 'fashion-mnist-cnn' }),
      code: 'BAD_USER_INPUT',
      message:
        /^scorer: expected a scorer trained on "mnist" \(the dataset of model .+\) or a general-purpose one, got "fashion-mnist-cnn", trained on "fashion-mnist"$/,
    },
    {
      name: 'a scorer whose class count does not fit the dataset',
      args: () => ({ metrics: all, scorer: 'mnist-3-classes' }),
      code: 'BAD_USER_INPUT',
      message: /^scorer: expected a scorer with the 10 classes of dataset mnist, got "mnist-3-classes" with 3$/,
    },
  ];

  for (const c of cases) {
    it(`${c.name} is ${c.code} and a FAILED EVALUATE run, with no evaluation stored`, async () => {
      const before = await server.ganql.database.prisma.evaluation.count();
      const body = await evaluate(c.args());
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0].extensions?.code).toBe(c.code);
      expect(body.errors?.[0].message).toMatch(c.message);
      expect(await newestRun()).toMatchObject({ kind: 'EVALUATE', status: 'FAILED', errorCode: c.code, errorMessage: body.errors?.[0].message });
      expect(await server.ganql.database.prisma.evaluation.count()).toBe(before);
    });
  }
});

describe('nearestNeighbours', () => {
  it('shows each sample beside its nearest training digit (pixel L2 in [0, 1]), in order, as one run', async () => {
    const samples = (await server.gql<{ samples: { id: string; image: { dataUrl: string } }[] }>('{ samples(count: 3, seed: 5) { id image { dataUrl } } }'))
      .data!.samples;
    const ids = [samples[2].id, samples[0].id, samples[1].id];
    const body = await server.gql<{
      nearestNeighbours: {
        sample: { id: string; image: { dataUrl: string } };
        neighbour: { width: number; height: number; dataUrl: string };
        dataset: string;
        split: string;
        trainingIndex: number;
        label: number;
        distance: number;
      }[];
    }>(
      'query($ids: [ID!]!) { nearestNeighbours(sampleIds: $ids) { sample { id image { dataUrl } } neighbour { width height dataUrl } dataset split trainingIndex label distance } }',
      { ids },
    );
    expect(body.errors).toBeUndefined();
    const found = body.data!.nearestNeighbours;
    expect(found.map((n) => n.sample.id)).toEqual(ids);
    // Regenerated through the pool: the same image as when it was made.
    expect(found[1].sample.image.dataUrl).toBe(samples[0].image.dataUrl);

    const train = loadMnist({ split: 'train', seed: 0 });
    const png = (url: string) => decodePng(Buffer.from(url.split(',')[1], 'base64')).data;
    for (const n of found) {
      expect(n).toMatchObject({ dataset: 'mnist', split: 'train', neighbour: { width: 28, height: 28 } });
      expect(n.label).toBe(train.labels[n.trainingIndex]);
      // The neighbour image is that training digit.
      const digit = train.images.subarray(n.trainingIndex * 784, (n.trainingIndex + 1) * 784);
      expect(Array.from(png(n.neighbour.dataUrl))).toEqual(Array.from(digit, (v) => quantize(v, -1, 1)));
      // And it is the nearest: brute force from the sample's 8-bit PNG agrees within the quantisation.
      const sample = png(n.sample.image.dataUrl);
      let best = Infinity;
      for (let t = 0; t < train.count; t++) {
        let d = 0;
        for (let p = 0; p < 784; p++) d += (sample[p] / 255 - (train.images[t * 784 + p] + 1) / 2) ** 2;
        best = Math.min(best, d);
      }
      expect(n.distance).toBeGreaterThan(0);
      expect(Math.abs(n.distance - Math.sqrt(best))).toBeLessThan(0.05);
    }
    expect(await newestRun()).toMatchObject({ kind: 'NEAREST_NEIGHBOURS', status: 'SUCCEEDED', modelId });
  });

  it('an unknown sample id is BAD_USER_INPUT naming it, 65 ids are too many; each a FAILED run', async () => {
    const sample = (await server.gql<{ samples: { id: string }[] }>('{ samples(count: 1, seed: 1) { id } }')).data!.samples[0];
    const query = 'query($ids: [ID!]!) { nearestNeighbours(sampleIds: $ids) { distance } }';
    const unknown = await server.gql(query, { ids: [sample.id, 'ghost'] });
    expect(unknown.errors?.[0]).toMatchObject({
      message: 'sampleIds[1]: expected the id of a stored sample, got "ghost" (no such sample)',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await newestRun()).toMatchObject({ kind: 'NEAREST_NEIGHBOURS', status: 'FAILED', errorCode: 'BAD_USER_INPUT' });
    const many = await server.gql(query, { ids: Array.from({ length: 65 }, () => sample.id) });
    expect(many.errors?.[0]).toMatchObject({
      message: 'sampleIds (number of ids): expected an integer in 1..64, got 65',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const none = await server.gql(query, { ids: [] });
    expect(none.errors?.[0].message).toBe('sampleIds (number of ids): expected an integer in 1..64, got 0');
  });
});

describe('shutdown', () => {
  it('interrupts a running evaluation: stop() returns promptly and the run is recorded INTERRUPTED', async () => {
    const started = (await evaluate({ metrics: ['INCEPTION_SCORE', 'FID'], samples: 50_000 })).data!.evaluate;
    await expect.poll(async () => (await run(started.id)).progress, { timeout: 20_000, interval: 50 }).toBeGreaterThan(0.1);
    const began = performance.now();
    await server.ganql.stop();
    expect(performance.now() - began).toBeLessThan(10_000);
    const file = server.ganql.config.databaseUrl.slice('file:'.length);
    const db = new BetterSqlite3(file, { readonly: true });
    const row = db.prepare('SELECT status, errorMessage, progress FROM "Run" WHERE id = ?').get(started.id) as {
      status: string;
      errorMessage: string;
      progress: number;
    };
    db.close();
    expect(row).toMatchObject({ status: 'INTERRUPTED', errorMessage: 'the server stopped while this run was in progress' });
    expect(row.progress).toBeGreaterThan(0.1);
    expect(row.progress).toBeLessThan(1);
  });
});
