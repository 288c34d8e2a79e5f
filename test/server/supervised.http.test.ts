import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { loadTrainingData } from '../../src/data/training-data';
import { decodePng } from '../../src/images/png';
import { loadLayersModel } from '../../src/models/io';
import { kPlusOneProbabilities } from '../../src/training/k-plus-one';
import { DIGITS, seededImages, writeFixtureModel } from '../classify/kplusone-fixture';
import { pngBytes } from '../helpers/data-url';
import { startTestServer, type TestServer } from '../helpers/server';
import { subscribe, wsClient } from '../training-jobs/graphql-ws-client';

interface EventOut {
  trainingProgress: {
    type: string;
    state: string;
    modelId: string | null;
    error: string | null;
    epoch: {
      epoch: number;
      generatorLoss: number;
      discriminatorLoss: number;
      dAccuracyReal: number;
      dAccuracyFake: number;
      testError: number | null;
      samples: { dataUrl: string };
    } | null;
  };
}

interface ModelOut {
  id: string;
  architecture: string;
  latentSize: number | null;
  generatorLayers: { name: string }[];
  featureNetworkRole: string | null;
}

interface ClassificationOut {
  label: string;
  labelIndex: number;
  probabilities: { class: string; probability: number }[];
  generatedProbability: number;
}

const EVENTS = `subscription($id: ID!) { trainingProgress(jobId: $id) {
  type state modelId error epoch { epoch generatorLoss discriminatorLoss dAccuracyReal dAccuracyFake testError samples { dataUrl } } } }`;
const START = 'mutation($input: StartTrainingInput!) { startTraining(input: $input) { id name state spec { mode architecture labelsPerClass } } }';
const MODEL_FIELDS = 'id architecture latentSize generatorLayers { name } featureNetworkRole';
const MODELS = `{ models { ${MODEL_FIELDS} } }`;
const CLASSIFY = `query($modelId: ID!, $images: [ImageInput!]!) {
  classify(modelId: $modelId, images: $images) { label labelIndex probabilities { class probability } generatedProbability } }`;

/** The message every generating operation gives for a model without a generator. */
const noGenerator = (field: string, id: string, generating: string): string =>
  `${field}: expected a model with a generator (${generating}), got ${id}, which has no generator ` +
  '(a classifier trained in supervised mode: it serves classify and the feature analyses only)';

const pngOf = (dataUrl: string) => decodePng(pngBytes(dataUrl));

/** The K+1 probabilities of `pixels` (0..255) by the classifier saved in `dir`, computed directly: the reference. */
async function direct(dir: string, pixels: Float32Array[]): Promise<number[][]> {
  const classifier = await loadLayersModel(dir);
  const batch = new Float32Array(pixels.length * 784);
  pixels.forEach((x, i) =>
    batch.set(
      x.map((v) => -1 + (v * 2) / 255),
      i * 784,
    ),
  );
  const out = tf.tidy(() => kPlusOneProbabilities(classifier.predict(tf.tensor4d(batch, [pixels.length, 28, 28, 1])) as tf.Tensor2D).arraySync());
  classifier.dispose();
  return out;
}

describe('SUPERVISED training over GraphQL, and the version it makes', () => {
  let server: TestServer;
  let client: Client;
  let modelId: string;
  let folder: string;

  beforeAll(async () => {
    server = await startTestServer({ port: 0, host: '127.0.0.1' }, { GANQL_LOG_LEVEL: 'silent' }, { tempModels: true });
    const address = await server.ganql.listen();
    client = wsClient(`http://127.0.0.1:${address.port}/graphql`);
  });

  afterAll(async () => {
    await client?.dispose();
    await server?.stop();
  });

  it('trains the K+1 discriminator on 20 labelled digits; EPOCH events carry the cross-entropy, the test error and a grid', async () => {
    const started = await server.gql<{
      startTraining: { id: string; name: string; state: string; spec: { mode: string; architecture: string; labelsPerClass: number } };
    }>(START, { input: { mode: 'SUPERVISED', epochs: 2, batchSize: 10, limit: 200, labelsPerClass: 2, learningRate: 0.003, seed: 4 } });
    expect(started.errors).toBeUndefined();
    const created = started.data!.startTraining;
    expect(created).toMatchObject({ name: 'mlp-supervised-mnist', spec: { mode: 'SUPERVISED', architecture: 'MLP', labelsPerClass: 2 } });

    const stream = subscribe<EventOut>(client, EVENTS, { id: created.id });
    await stream.done;
    const events = stream.results.map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.trainingProgress;
    });
    const epochs = events.filter((e) => e.type === 'EPOCH').map((e) => e.epoch!);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of epochs) {
      // discriminatorLoss: the cross-entropy of the K logits; there is no generator and no real/fake game.
      expect(e.discriminatorLoss).toBeGreaterThan(0);
      expect([e.generatorLoss, e.dAccuracyReal, e.dAccuracyFake]).toEqual([0, 0, 0]);
      expect(e.testError).toBeGreaterThan(0);
      expect(e.testError).toBeLessThan(1);
      // The first 64 held-out digits, in colour (the misclassified in red).
      expect(pngOf(e.samples.dataUrl)).toMatchObject({ width: 242, height: 242, channels: 3 });
    }
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'END', state: 'SUCCEEDED', error: null });
    expect(end.modelId).toMatch(/^mlp-supervised-mnist@/);
    modelId = end.modelId!;
    folder = `mlp-supervised-mnist-${modelId.split('@')[1]}`;
    const manifest = JSON.parse(readFileSync(path.join(server.ganql.config.modelsDir, folder, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ architecture: 'mlp', discriminatorPath: 'discriminator', classifier: { path: 'classifier', classes: DIGITS } });
    expect(manifest).not.toHaveProperty('generatorPath');
    expect(manifest.training.metrics.testError).toBe(epochs[1].testError);
  });

  it('lists it without a latent size or generator layers, with its discriminator as the feature network', async () => {
    const body = await server.gql<{ models: ModelOut[] }>(MODELS);
    expect(body.errors).toBeUndefined();
    expect(body.data!.models.find((m) => m.id === modelId)).toEqual({
      id: modelId,
      architecture: 'mlp',
      latentSize: null,
      generatorLayers: [],
      featureNetworkRole: 'discriminator',
    });
    // The GAN beside it keeps its own.
    expect(body.data!.models.find((m) => m.id.startsWith('dcgan-mnist@'))?.latentSize).toBe(100);
  });

  it('classifies held-out digits as its saved classifier does', async () => {
    const test = await loadTrainingData('mnist', 'test', { limit: 32 });
    const pixels = Array.from({ length: 32 }, (_, i) => test.images.subarray(i * 784, (i + 1) * 784).map((v) => Math.round(((v + 1) * 255) / 2)));
    const body = await server.gql<{ classify: ClassificationOut[] }>(CLASSIFY, { modelId, images: pixels.map((p) => ({ pixels: Array.from(p) })) });
    expect(body.errors).toBeUndefined();
    const expected = await direct(path.join(server.ganql.config.modelsDir, folder, 'classifier'), pixels);
    body.data!.classify.forEach((c, i) => {
      const all = [...c.probabilities.map((p) => p.probability), c.generatedProbability];
      all.forEach((p, k) => expect(Math.abs(p - expected[i][k])).toBeLessThanOrEqual(1e-5));
      expect(c.label).toBe(DIGITS[c.labelIndex]);
    });
  });

  it('refuses every operation that generates with BAD_USER_INPUT saying it has no generator, and records the FAILED run', async () => {
    const z = Array.from({ length: 100 }, () => 0);
    const dcgan = (await server.gql<{ models: ModelOut[] }>(MODELS)).data!.models.filter((m) => m.latentSize !== null).map((m) => m.id);
    const generating = dcgan.join(', ');
    const refused: [string, string, Record<string, unknown>][] = [
      ['samples', 'query($m: ID!) { samples(modelId: $m, count: 2, seed: 1) { id } }', {}],
      ['interpolate', 'query($m: ID!, $z: [Float!]!) { interpolate(modelId: $m, from: { latent: $z }, to: { latent: $z }, steps: 2) { runId } }', { z }],
      [
        'latentArithmetic',
        'query($m: ID!, $z: [Float!]!) { latentArithmetic(modelId: $m, terms: [{ coefficient: 1, exemplars: [{ latent: $z }] }]) { runId } }',
        { z },
      ],
      ['evaluate', 'mutation($m: ID!) { evaluate(modelId: $m, metrics: [INCEPTION_SCORE], samples: 100, splits: 1) { id } }', {}],
      ['conceptFilters', 'query($m: ID!) { conceptFilters(modelId: $m, layer: "d_hidden1", concept: "1") { runId } }', {}],
    ];
    for (const [operation, query, variables] of refused) {
      const body = await server.gql(query, { m: modelId, ...variables });
      expect(body.errors, operation).toHaveLength(1);
      expect(body.errors![0], operation).toMatchObject({ message: noGenerator('modelId', modelId, generating), extensions: { code: 'BAD_USER_INPUT' } });
    }
    const runs = await server.gql<{ runs: { edges: { node: { kind: string; status: string; errorCode: string; modelId: string } }[] } }>(
      '{ runs(first: 1, filter: { kind: SAMPLE }) { edges { node { kind status errorCode modelId } } } }',
    );
    expect(runs.data!.runs.edges[0].node).toEqual({ kind: 'SAMPLE', status: 'FAILED', errorCode: 'BAD_USER_INPUT', modelId });

    // Fine-tuning needs a generator too; in SUPERVISED mode it is refused outright.
    const gan = await server.gql(START, { input: { mode: 'GAN', epochs: 1, fineTuneFrom: modelId } });
    expect(gan.errors?.[0]).toMatchObject({
      message: `fineTuneFrom: expected a model with a generator and a discriminator, got model ${modelId}, which has no generator (a classifier trained in supervised mode)`,
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const own = await server.gql(START, { input: { mode: 'SUPERVISED', epochs: 1, labelsPerClass: 2, fineTuneFrom: dcgan[0] } });
    expect(own.errors?.[0]).toMatchObject({
      message: `fineTuneFrom: expected none in SUPERVISED mode (the supervised baseline trains from scratch), got model ${dcgan[0]}`,
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('refuses the options of a GAN in SUPERVISED mode as BAD_USER_INPUT', async () => {
    const base = { mode: 'SUPERVISED', epochs: 1, labelsPerClass: 2 };
    const bad: [Record<string, unknown>, string][] = [
      [
        { architecture: 'DCGAN' },
        'architecture: expected "mlp" in supervised mode (the baseline is the K+1 MLP discriminator of Salimans et al.), got "dcgan"',
      ],
      [{ k: 2 }, 'k: expected none in supervised mode (there is no generator step to count discriminator steps against), got 2'],
      [{ generatorLoss: 'MINIMAX' }, 'generatorLoss: expected none in supervised mode (there is no generator), got "minimax"'],
      [{ latentSize: 64 }, 'latentSize: expected none in supervised mode (there is no generator), got 64'],
      [
        { techniques: { historicalAveraging: { weight: 0.1 } } },
        'techniques.historicalAveraging: expected none in supervised mode (the techniques are for GANs), got {"weight":0.1}',
      ],
      [{ labelsPerClass: null }, 'labelsPerClass: expected an integer in 1..1000 in supervised mode, got none'],
    ];
    for (const [change, message] of bad) {
      const body = await server.gql(START, { input: { ...base, ...change } });
      expect(body.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    }
  });
});

describe('a models folder with a classifier that has no generator', () => {
  const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-supervised-http-'));
  let server: TestServer;

  beforeAll(async () => {
    // First by name: the default model must still be one that generates.
    await writeFixtureModel(modelsDir, 'a-classifier', { name: 'a-classifier', version: '1', classes: DIGITS, seed: 5, generator: false });
    await writeFixtureModel(modelsDir, 'b-gan', { name: 'b-gan', version: '1' });
    server = await startTestServer({ modelsDir }, { GANQL_INFERENCE_WORKERS: '2', GANQL_LOG_LEVEL: 'silent' });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('is served on the workers for classify, while samples without a model id come from the model that generates', async () => {
    const body = await server.gql<{ models: ModelOut[]; samples: { modelId: string }[] }>(
      `{ models { ${MODEL_FIELDS} } samples(count: 2, seed: 3) { modelId } }`,
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.models.map((m) => [m.id, m.latentSize])).toEqual([
      ['a-classifier@1', null],
      ['b-gan@1', 16],
    ]);
    expect(body.data!.samples.map((s) => s.modelId)).toEqual(['b-gan@1', 'b-gan@1']);
    const images = seededImages(3, 8);
    const classified = await server.gql<{ classify: ClassificationOut[] }>(CLASSIFY, {
      modelId: 'a-classifier@1',
      images: images.map((x) => ({ pixels: Array.from(x) })),
    });
    expect(classified.errors).toBeUndefined();
    const expected = await direct(path.join(modelsDir, 'a-classifier', 'classifier'), images);
    classified.data!.classify.forEach((c, i) => {
      [...c.probabilities.map((p) => p.probability), c.generatedProbability].forEach((p, k) => expect(Math.abs(p - expected[i][k])).toBeLessThanOrEqual(1e-5));
    });
    const samples = await server.gql('{ samples(modelId: "a-classifier@1") { id } }');
    expect(samples.errors?.[0]).toMatchObject({ message: noGenerator('modelId', 'a-classifier@1', 'b-gan@1'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('cannot be the default model', async () => {
    await expect(startTestServer({ modelsDir }, { GANQL_DEFAULT_MODEL: 'a-classifier@1', GANQL_LOG_LEVEL: 'silent' })).rejects.toThrow(
      'GANQL_DEFAULT_MODEL: expected a model with a generator (b-gan@1), got a-classifier@1, which only classifies',
    );
  });
});
