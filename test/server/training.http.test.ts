import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { startTestServer, type TestServer } from '../helpers/server';
import { subscribe, wsClient } from '../training-jobs/graphql-ws-client';
import { pngBytes } from '../helpers/data-url';

interface JobOut {
  id: string;
  state: string;
  name: string;
  version: string;
  parentModelId: string | null;
  modelId: string | null;
  keptModelIds: string[];
  epochsCompleted: number;
  progress: number;
  error: string | null;
  spec: {
    mode: string;
    architecture: string;
    dataset: string;
    epochs: number;
    batchSize: number;
    limit: number | null;
    latentSize: number;
    filters: number | null;
  };
  run: { id: string; kind: string; status: string; modelId: string | null; errorCode: string | null; errorMessage: string | null };
}

interface EventOut {
  trainingProgress: {
    type: string;
    jobId: string;
    state: string;
    progress: number;
    epochsCompleted: number | null;
    step: { epoch: number; step: number; stepsPerEpoch: number; generatorLoss: number; discriminatorLoss: number; imagesPerSecond: number } | null;
    epoch: {
      epoch: number;
      generatorLoss: number;
      discriminatorLoss: number;
      dAccuracyReal: number;
      dAccuracyFake: number;
      testError: number | null;
      seconds: number;
      imagesPerSecond: number | null;
      samples: { width: number; height: number; channels: number; dataUrl: string };
    } | null;
    modelId: string | null;
    error: string | null;
  };
}

const JOB =
  'id state name version parentModelId modelId keptModelIds epochsCompleted progress error spec { mode architecture dataset epochs batchSize limit latentSize filters } run { id kind status modelId errorCode errorMessage }';
const EVENTS = `subscription($id: ID!) { trainingProgress(jobId: $id) {
  type jobId state progress epochsCompleted modelId error
  step { epoch step stepsPerEpoch generatorLoss discriminatorLoss imagesPerSecond }
  epoch { epoch generatorLoss discriminatorLoss dAccuracyReal dAccuracyFake testError seconds imagesPerSecond samples { width height channels dataUrl } } } }`;

let server: TestServer;
let url: string;
let client: Client;

async function startTraining(input: Record<string, unknown>) {
  return server.gql<{ startTraining: JobOut }>(`mutation($input: StartTrainingInput!) { startTraining(input: $input) { ${JOB} } }`, { input });
}

async function job(id: string): Promise<JobOut> {
  const body = await server.gql<{ trainingJob: JobOut }>(`query($id: ID!) { trainingJob(id: $id) { ${JOB} } }`, { id });
  expect(body.errors).toBeUndefined();
  return body.data!.trainingJob;
}

const pngOf = (dataUrl: string) => decodePng(pngBytes(dataUrl));

beforeAll(async () => {
  server = await startTestServer({ port: 0, host: '127.0.0.1' }, {}, { tempModels: true });
  const address = await server.ganql.listen();
  url = `http://127.0.0.1:${address.port}/graphql`;
  client = wsClient(url);
});

afterAll(async () => {
  await client?.dispose();
  await server?.stop();
});

describe('training over GraphQL', () => {
  it('fine-tunes the shipped DCGAN, streams its epochs over graphql-ws, and serves the new version at once', async () => {
    const started = await startTraining({ fineTuneFrom: 'dcgan-mnist@2026-12-06T04-16', epochs: 2, batchSize: 32, limit: 64, seed: 3 });
    expect(started.errors).toBeUndefined();
    const created = started.data!.startTraining;
    expect(['QUEUED', 'RUNNING']).toContain(created.state);
    expect(created).toMatchObject({ name: 'dcgan-mnist', parentModelId: 'dcgan-mnist@2026-12-06T04-16', modelId: null, epochsCompleted: 0 });
    // Fine-tuning keeps the parent's network (its width too); the dataset is the parent's too.
    expect(created.spec).toMatchObject({
      mode: 'GAN',
      architecture: 'DCGAN',
      dataset: 'MNIST',
      epochs: 2,
      batchSize: 32,
      limit: 64,
      latentSize: 100,
      filters: 64,
    });
    expect(created.run).toMatchObject({ id: created.id, kind: 'TRAIN', status: 'RUNNING' });

    const stream = subscribe<EventOut>(client, EVENTS, { id: created.id });
    await stream.done;
    const events = stream.results.map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.trainingProgress;
    });
    expect(events.every((e) => e.jobId === created.id)).toBe(true);
    const epochs = events.filter((e) => e.type === 'EPOCH');
    expect(epochs.map((e) => e.epoch!.epoch)).toEqual([1, 2]);
    for (const e of epochs) {
      expect(Number.isFinite(e.epoch!.generatorLoss) && Number.isFinite(e.epoch!.discriminatorLoss)).toBe(true);
      expect(e.epoch!.dAccuracyReal).toBeGreaterThanOrEqual(0);
      expect(e.epoch!.dAccuracyReal).toBeLessThanOrEqual(1);
      expect(e.epoch!.testError).toBeNull();
      expect(e.epoch!.seconds).toBeGreaterThan(0);
      // 64 images an epoch over its training time, which is shorter than the whole epoch's.
      expect(Number.isFinite(e.epoch!.imagesPerSecond)).toBe(true);
      expect(e.epoch!.imagesPerSecond).toBeGreaterThan(64 / e.epoch!.seconds);
      const png = pngOf(e.epoch!.samples.dataUrl);
      // 64 samples, 8x8 with 2 px padding: 8*28 + 9*2.
      expect([png.width, png.height, png.channels]).toEqual([242, 242, 1]);
      expect([e.epoch!.samples.width, e.epoch!.samples.height, e.epoch!.samples.channels]).toEqual([242, 242, 1]);
    }
    expect(epochs.map((e) => e.progress)).toEqual([0.5, 1]);
    const steps = events.filter((e) => e.type === 'STEP');
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) {
      expect(s.step!.stepsPerEpoch).toBe(2);
      expect(Number.isFinite(s.step!.imagesPerSecond)).toBe(true);
      expect(s.step!.imagesPerSecond).toBeGreaterThan(0);
    }
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'END', state: 'SUCCEEDED', epochsCompleted: 2, error: null, progress: 1 });
    expect(end.modelId).toMatch(/^dcgan-mnist@\d{4}-\d\d-\d\dT\d\d-\d\d-[0-9a-f]{8}$/);
    expect(events.filter((e) => e.type === 'END')).toHaveLength(1);

    const finished = await job(created.id);
    expect(finished).toMatchObject({ state: 'SUCCEEDED', modelId: end.modelId, epochsCompleted: 2, progress: 1, error: null });
    expect(finished.run).toMatchObject({ kind: 'TRAIN', status: 'SUCCEEDED', modelId: end.modelId });
    // The job query reads the epochs' throughput back from the database, as the subscription sent it.
    const recorded = await server.gql<{ trainingJob: { epochs: { epoch: number; imagesPerSecond: number | null }[] } }>(
      'query($id: ID!) { trainingJob(id: $id) { epochs { epoch imagesPerSecond } } }',
      { id: created.id },
    );
    expect(recorded.errors).toBeUndefined();
    const stored = recorded.data!.trainingJob.epochs;
    expect(stored.map((e) => e.epoch)).toEqual([1, 2]);
    // SQLite's REAL round trip may change the last digit.
    stored.forEach((e, i) => expect(e.imagesPerSecond).toBeCloseTo(epochs[i].epoch!.imagesPerSecond!, 6));
    expect(existsSync(path.join(server.ganql.config.modelsDir, `dcgan-mnist-${finished.version}`, 'manifest.json'))).toBe(true);
    // The job's working folder moved into the models folder: nothing is left behind.
    expect(readdirSync(server.ganql.config.training.jobsDir)).toEqual([]);

    const samples = await server.gql<{ samples: { modelId: string; image: { dataUrl: string } }[]; models: { id: string }[] }>(
      `query($m: ID!) { samples(modelId: $m, count: 2, seed: 5) { modelId image { dataUrl } } models { id } }`,
      { m: end.modelId },
    );
    expect(samples.errors).toBeUndefined();
    expect(samples.data!.samples.map((s) => s.modelId)).toEqual([end.modelId, end.modelId]);
    expect(samples.data!.models.map((m) => m.id)).toContain(end.modelId);
    // Fine-tuned weights differ from the parent's: the same seed gives other pixels.
    const parent = await server.gql<{ samples: { image: { dataUrl: string } }[] }>(
      '{ samples(modelId: "dcgan-mnist@2026-12-06T04-16", count: 2, seed: 5) { image { dataUrl } } }',
    );
    expect(parent.data!.samples[0].image.dataUrl).not.toBe(samples.data!.samples[0].image.dataUrl);

    // A subscription to a job that has ended gets its END event at once, then completes.
    const late = subscribe<EventOut>(client, EVENTS, { id: created.id });
    await late.done;
    expect(late.results.map((r) => r.data!.trainingProgress)).toEqual([expect.objectContaining({ type: 'END', state: 'SUCCEEDED', modelId: end.modelId })]);
  });

  it('trains an MLP from scratch, keeps an epoch as a version of its own, and lists jobs by state', async () => {
    const started = await startTraining({ name: 'test-mlp', architecture: 'MLP', epochs: 2, batchSize: 32, limit: 128, keepEvery: 1, seed: 9 });
    expect(started.errors).toBeUndefined();
    const id = started.data!.startTraining.id;
    expect(started.data!.startTraining.spec).toMatchObject({ architecture: 'MLP', dataset: 'MNIST', latentSize: 100, epochs: 2, filters: null });
    await subscribe<EventOut>(client, EVENTS, { id }).done;
    const done = await job(id);
    expect(done).toMatchObject({ state: 'SUCCEEDED', name: 'test-mlp', epochsCompleted: 2, parentModelId: null });
    // Epoch 1 is kept; the final epoch is the job's own version, not kept twice.
    expect(done.keptModelIds).toEqual([`test-mlp@${done.version}-epoch-001`]);
    expect(done.modelId).toBe(`test-mlp@${done.version}`);
    const epochs = await server.gql<{ trainingJob: { epochs: { epoch: number; keptModelId: string | null; samples: { dataUrl: string } }[] } }>(
      `query($id: ID!) { trainingJob(id: $id) { epochs { epoch keptModelId samples { dataUrl } } } }`,
      { id },
    );
    expect(epochs.data!.trainingJob.epochs.map((e) => [e.epoch, e.keptModelId])).toEqual([
      [1, done.keptModelIds[0]],
      [2, null],
    ]);
    for (const e of epochs.data!.trainingJob.epochs) expect(pngOf(e.samples.dataUrl).width).toBe(242);
    for (const modelId of [done.keptModelIds[0], done.modelId!]) {
      const made = await server.gql<{ samples: { modelId: string }[] }>('query($m: ID!) { samples(modelId: $m, count: 3, seed: 1) { modelId } }', {
        m: modelId,
      });
      expect(made.errors).toBeUndefined();
      expect(made.data!.samples).toHaveLength(3);
    }
    const listed = await server.gql<{
      trainingJobs: { totalCount: number; edges: { node: { id: string; state: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    }>('{ trainingJobs(status: SUCCEEDED, first: 1) { totalCount edges { node { id state } } pageInfo { hasNextPage endCursor } } }');
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.trainingJobs.edges.map((e) => e.node)).toEqual([{ id, state: 'SUCCEEDED' }]);
    expect(listed.data!.trainingJobs.totalCount).toBeGreaterThanOrEqual(2);
    expect(listed.data!.trainingJobs.pageInfo).toEqual({ hasNextPage: true, endCursor: id });
  });

  it('trains a DCGAN of 8 filters with a moving average of G, scoring its epochs, and serves it at its width', async () => {
    const input = { name: 'test-narrow', epochs: 2, batchSize: 32, limit: 64, filters: 8, generatorAverage: 0.01, evalEvery: 1, evalSamples: 1000, seed: 2 };
    const started = await startTraining(input);
    expect(started.errors).toBeUndefined();
    const id = started.data!.startTraining.id;
    const spec = await server.gql<{ trainingJob: { spec: Record<string, unknown> } }>(
      'query($id: ID!) { trainingJob(id: $id) { spec { architecture filters generatorAverage evalEvery evalSamples } } }',
      { id },
    );
    expect(spec.data!.trainingJob.spec).toEqual({ architecture: 'DCGAN', filters: 8, generatorAverage: 0.01, evalEvery: 1, evalSamples: 1000 });
    const stream = subscribe<{
      trainingProgress: {
        type: string;
        modelId: string | null;
        epoch: { epoch: number; inceptionScore: number | null; inceptionScoreStd: number | null; fid: number | null } | null;
      };
    }>(client, 'subscription($id: ID!) { trainingProgress(jobId: $id) { type modelId epoch { epoch inceptionScore inceptionScoreStd fid } } }', { id });
    await stream.done;
    const events = stream.results.map((r) => r.data!.trainingProgress);
    const epochs = events.filter((e) => e.type === 'EPOCH').map((e) => e.epoch!);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of epochs) {
      // An untrained generator's digits: an IS between its floor and the classes, a FID far from the real digits'.
      expect(e.inceptionScore).toBeGreaterThanOrEqual(1);
      expect(e.inceptionScore).toBeLessThanOrEqual(10);
      expect(e.inceptionScoreStd).toBe(0);
      expect(e.fid).toBeGreaterThan(10);
    }
    // The same figures are recorded with the job's epochs (the database keeps 15 significant digits).
    const recorded = await server.gql<{ trainingJob: { epochs: { inceptionScore: number | null; fid: number | null }[] } }>(
      'query($id: ID!) { trainingJob(id: $id) { epochs { inceptionScore fid } } }',
      { id },
    );
    const rows = recorded.data!.trainingJob.epochs;
    expect(rows).toHaveLength(2);
    rows.forEach((row, i) => {
      expect(row.inceptionScore).toBeCloseTo(epochs[i].inceptionScore ?? NaN, 10);
      expect(row.fid).toBeCloseTo(epochs[i].fid ?? NaN, 8);
    });
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'END' });
    const model = await server.gql<{ model: { generatorLayers: { name: string; neurons: number }[] } }>(
      'query($m: ID!) { model(id: $m) { generatorLayers { name neurons } } }',
      { m: end.modelId },
    );
    expect(model.errors).toBeUndefined();
    // 7x7x16 after the projection, 8 maps at 14x14.
    expect(model.data!.model.generatorLayers.find((l) => l.name === 'g_up1_relu')?.neurons).toBe(8);
    expect(model.data!.model.generatorLayers.find((l) => l.name === 'g_project_relu')?.neurons).toBe(7 * 7 * 16);
  });

  it('trains a semi-supervised K+1 MLP: epochs report the test error, and the new version classifies', async () => {
    const started = await startTraining({ mode: 'KPLUSONE', architecture: 'MLP', labelsPerClass: 10, epochs: 1, batchSize: 100, limit: 500 });
    expect(started.errors).toBeUndefined();
    const id = started.data!.startTraining.id;
    expect(started.data!.startTraining.name).toBe('mlp-kplusone-mnist');
    const stream = subscribe<EventOut>(client, EVENTS, { id });
    await stream.done;
    const events = stream.results.map((r) => r.data!.trainingProgress);
    const epoch = events.find((e) => e.type === 'EPOCH')!.epoch!;
    // A fraction of the 1,000 held-out digits, after one short epoch: better than nothing, far from perfect.
    expect(epoch.testError).toBeGreaterThan(0);
    expect(epoch.testError).toBeLessThan(0.9);
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'END', state: 'SUCCEEDED' });
    const classified = await server.gql<{ classify: { modelId: string; probabilities: { class: string }[] }[] }>(
      'query($m: ID!, $px: [Float!]!) { classify(modelId: $m, images: [{ pixels: $px }]) { modelId probabilities { class } } }',
      { m: end.modelId, px: new Array(784).fill(0) },
    );
    expect(classified.errors).toBeUndefined();
    expect(classified.data!.classify[0].modelId).toBe(end.modelId);
    expect(classified.data!.classify[0].probabilities.map((p) => p.class)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('cancels a queued job and a running one, which keeps its completed epochs; serving answers meanwhile', async () => {
    const timeSamples = async (): Promise<number[]> => {
      const latencies: number[] = [];
      for (let i = 0; i < 8; i++) {
        const t0 = performance.now();
        const made = await server.gql<{ samples: { id: string }[] }>('{ samples(count: 4) { id } }');
        latencies.push(performance.now() - t0);
        expect(made.data!.samples).toHaveLength(4);
      }
      return latencies.sort((x, y) => x - y);
    };
    const idle = await timeSamples();
    const long = { fineTuneFrom: 'dcgan-mnist@2026-12-06T04-16', epochs: 1000, batchSize: 32, limit: 128 };
    const first = (await startTraining(long)).data!.startTraining;
    // One training slot (GANQL_MAX_TRAINING_JOBS=1): the second waits.
    const second = (await startTraining({ ...long, epochs: 3 })).data!.startTraining;
    expect(second.state).toBe('QUEUED');
    const queuedEvents = subscribe<EventOut>(client, EVENTS, { id: second.id });
    const cancelledQueued = await server.gql<{ cancelTraining: JobOut }>(`mutation($id: ID!) { cancelTraining(id: $id) { ${JOB} } }`, { id: second.id });
    expect(cancelledQueued.data!.cancelTraining).toMatchObject({ state: 'CANCELLED', error: 'cancelled while QUEUED', epochsCompleted: 0 });
    expect(cancelledQueued.data!.cancelTraining.run).toMatchObject({ status: 'CANCELLED', errorMessage: 'cancelled while QUEUED' });
    await queuedEvents.done;
    expect(queuedEvents.results.map((r) => r.data!.trainingProgress.type)).toEqual(['END']);

    const stream = subscribe<EventOut>(client, EVENTS, { id: first.id });
    await stream.waitFor((d) => d.trainingProgress.type === 'EPOCH');
    // Serving stays responsive while the worker thread trains.
    const latencies = await timeSamples();
    console.log(
      `samples(count: 4): median ${idle[4].toFixed(0)} ms, max ${idle[7].toFixed(0)} ms idle; ` +
        `median ${latencies[4].toFixed(0)} ms, max ${latencies[7].toFixed(0)} ms during DCGAN training`,
    );
    expect(latencies[4]).toBeLessThan(1000);
    // The job's native kernels use both cores (GANQL_TRAINING_THREADS' default); /healthz still answers.
    const health: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const res = await server.http.get('/healthz');
      health.push(performance.now() - t0);
      expect(res.status).toBe(200);
    }
    health.sort((x, y) => x - y);
    console.log(`/healthz during DCGAN training: median ${health[4].toFixed(0)} ms, max ${health[7].toFixed(0)} ms`);
    expect(health[7]).toBeLessThan(1000);
    expect((await job(first.id)).state).toBe('RUNNING');

    const t0 = performance.now();
    const cancelled = await server.gql<{ cancelTraining: JobOut }>(`mutation($id: ID!) { cancelTraining(id: $id) { ${JOB} } }`, { id: first.id });
    console.log(`cancelTraining answered in ${(performance.now() - t0).toFixed(0)} ms`);
    const c = cancelled.data!.cancelTraining;
    expect(c.state).toBe('CANCELLED');
    expect(c.epochsCompleted).toBeGreaterThanOrEqual(1);
    expect(c.epochsCompleted).toBeLessThan(1000);
    expect(c.error).toBe(`cancelled after ${c.epochsCompleted} of 1000 epochs`);
    expect(c.modelId).toBeNull();
    expect(c.run).toMatchObject({ kind: 'TRAIN', status: 'CANCELLED', errorMessage: c.error });
    await stream.done;
    expect(stream.results.at(-1)!.data!.trainingProgress).toMatchObject({
      type: 'END',
      state: 'CANCELLED',
      epochsCompleted: c.epochsCompleted,
      modelId: null,
      error: c.error,
    });
    const kept = await server.gql<{ trainingJob: { epochs: { epoch: number }[] } }>('query($id: ID!) { trainingJob(id: $id) { epochs { epoch } } }', {
      id: first.id,
    });
    expect(kept.data!.trainingJob.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: c.epochsCompleted }, (_, i) => i + 1));

    const again = await server.gql(`mutation($id: ID!) { cancelTraining(id: $id) { id } }`, { id: first.id });
    expect(again.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: `id: expected a QUEUED or RUNNING training job, got job ${first.id}, which is CANCELLED`,
    });
    const unknown = await server.gql('mutation { cancelTraining(id: "nope") { id } }');
    expect(unknown.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' }, message: 'training job "nope" not found' });
    const unknownEvents = subscribe<EventOut>(client, EVENTS, { id: 'nope' });
    await unknownEvents.done;
    expect(unknownEvents.results[0].errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('refuses bad training input with BAD_USER_INPUT (NOT_FOUND for an unknown fineTuneFrom), each a FAILED TRAIN run', async () => {
    const failedRuns = async () =>
      (
        await server.gql<{ runs: { totalCount: number; edges: { node: { errorCode: string; errorMessage: string; modelId: string | null } }[] } }>(
          '{ runs(first: 30, filter: { kind: TRAIN, status: FAILED }) { totalCount edges { node { errorCode errorMessage modelId } } } }',
        )
      ).data!.runs;
    const before = (await failedRuns()).totalCount;
    const kplusone = { mode: 'KPLUSONE', architecture: 'MLP', techniques: { featureMatching: { layer: 'features' } } };
    const cases: [Record<string, unknown>, string][] = [
      [{ epochs: 1, dataset: 'CIFAR10' }, 'dataset: expected one of MNIST, FASHION_MNIST, got "CIFAR10"'],
      [{ epochs: 1, ...kplusone, labelsPerClass: 0 }, 'labelsPerClass: expected an integer in 1..1000, got 0'],
      [{ epochs: 1, ...kplusone, labelsPerClass: 1001 }, 'labelsPerClass: expected an integer in 1..1000, got 1001'],
      [{ epochs: 0 }, 'epochs: expected an integer in 1..1000, got 0'],
      [{ epochs: 1001 }, 'epochs: expected an integer in 1..1000, got 1001'],
      [{ epochs: 1, batchSize: 0 }, 'batchSize: expected an integer in 1..1024, got 0'],
      [{ epochs: 1, batchSize: 1025 }, 'batchSize: expected an integer in 1..1024, got 1025'],
      [{ epochs: 1, learningRate: 0 }, 'learningRate: expected a number > 0 and <= 1, got 0'],
      [{ epochs: 1, learningRate: -0.001 }, 'learningRate: expected a number > 0 and <= 1, got -0.001'],
      [{ epochs: 1, name: '../escape' }, 'name: expected 1..64 letters, digits, ".", "_" or "-", starting with a letter or digit, got "../escape"'],
      [
        { epochs: 1, fineTuneFrom: 'dcgan-mnist@2026-12-06T04-16', architecture: 'MLP' },
        'architecture: expected "dcgan", the architecture of model dcgan-mnist@2026-12-06T04-16 to fine-tune, got "mlp"',
      ],
      [{ epochs: 1, filters: 4 }, 'filters: expected an integer in 8..128, got 4'],
      [
        { epochs: 1, architecture: 'MLP', filters: 32 },
        'filters: expected architecture "dcgan" (the MLP networks have fixed layer widths), got architecture "mlp"',
      ],
      [
        { epochs: 1, fineTuneFrom: 'dcgan-mnist@2026-12-06T04-16', filters: 32 },
        'filters: expected 64, the filters of model dcgan-mnist@2026-12-06T04-16 to fine-tune (discriminatorFilters 64), got 32',
      ],
      [{ epochs: 1, generatorAverage: 0 }, 'generatorAverage: expected a rate in (0, 1] (0.001 = decay 0.999), got 0'],
      [
        { epochs: 1, ...kplusone, labelsPerClass: 1, generatorAverage: 0.001 },
        'generatorAverage: expected mode "gan" (the average is of a GAN generator), got mode "kplusone" with generatorAverage 0.001',
      ],
      [
        { epochs: 1, techniques: { featureMatching: { layer: 'd_flatten', batch: 'SEPARATE' } } },
        `techniques.featureMatching.batch: expected it only in kplusone mode (gan mode matches D's own real batch), got "separate"`,
      ],
      [{ epochs: 2, evalEvery: 3 }, 'evalEvery: expected an integer in 1..2, got 3'],
      [{ epochs: 1, evalEvery: 1, evalSamples: 1500 }, 'evalSamples: expected a multiple of 1000 in 1000..50000 (IS splits of 1000), got 1500'],
      [{ epochs: 1, evalSamples: 1000 }, 'evalSamples: expected evalEvery with it (the samples of the per-epoch evaluation), got evalSamples 1000 alone'],
    ];
    for (const [input, message] of cases) {
      const body = await startTraining(input);
      expect([JSON.stringify(input), body.errors?.[0]?.extensions?.code, body.errors?.[0]?.message]).toEqual([
        JSON.stringify(input),
        'BAD_USER_INPUT',
        message,
      ]);
      expect(body.data).toBeNull();
    }
    const missing = await startTraining({ epochs: 1, fineTuneFrom: 'nope@1' });
    expect(missing.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' }, message: 'model "nope@1" not found' });
    const runs = await failedRuns();
    expect(runs.totalCount).toBe(before + cases.length + 1);
    expect(runs.edges[0].node).toEqual({ errorCode: 'NOT_FOUND', errorMessage: 'model "nope@1" not found', modelId: null });
    expect(
      runs.edges
        .slice(1, cases.length + 1)
        .map((e) => e.node.errorMessage)
        .reverse(),
    ).toEqual(cases.map(([, m]) => m));
    // A subscription sent over HTTP says where subscriptions are served.
    const overHttp = await server.gql('subscription { trainingProgress(jobId: "x") { type } }');
    expect(overHttp.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: 'trainingProgress: expected a subscription over graphql-ws (graphql-transport-ws) on /graphql, got one over HTTP',
    });
    // None of them left a job behind.
    const jobs = await server.gql<{ trainingJobs: { totalCount: number } }>('{ trainingJobs(status: QUEUED) { totalCount } }');
    expect(jobs.data!.trainingJobs.totalCount).toBe(0);
  });
});
