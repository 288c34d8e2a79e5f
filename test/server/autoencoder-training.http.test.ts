import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { startTestServer, type TestServer } from '../helpers/server';
import { subscribe, wsClient } from '../training-jobs/graphql-ws-client';
import { pngBytes } from '../helpers/data-url';

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

const EVENTS = `subscription($id: ID!) { trainingProgress(jobId: $id) {
  type state modelId error epoch { epoch generatorLoss discriminatorLoss dAccuracyReal dAccuracyFake testError samples { dataUrl } } } }`;
const START = 'mutation($input: StartTrainingInput!) { startTraining(input: $input) { id name state spec { mode architecture latentSize } } }';

/** The shipped feature learner (README: its grandmother neurons). */
const SHIPPED = 'mnist-autoencoder@2026-11-27T10-13';

let server: TestServer;
let client: Client;

const pngOf = (dataUrl: string) => decodePng(pngBytes(dataUrl));

beforeAll(async () => {
  server = await startTestServer({ port: 0, host: '127.0.0.1' }, {}, { tempModels: true });
  const address = await server.ganql.listen();
  client = wsClient(`http://127.0.0.1:${address.port}/graphql`);
});

afterAll(async () => {
  await client?.dispose();
  await server?.stop();
});

describe('AUTOENCODER training over GraphQL', () => {
  it('trains a small sparse autoencoder in one epoch; its version serves samples from its decoder', async () => {
    const started = await server.gql<{
      startTraining: { id: string; name: string; state: string; spec: { mode: string; architecture: string; latentSize: number } };
    }>(START, {
      input: { mode: 'AUTOENCODER', epochs: 1, batchSize: 20, limit: 60, latentSize: 16, learningRate: 0.003, seed: 4 },
    });
    expect(started.errors).toBeUndefined();
    const created = started.data!.startTraining;
    expect(created).toMatchObject({ name: 'mlp-autoencoder-mnist', spec: { mode: 'AUTOENCODER', architecture: 'MLP', latentSize: 16 } });

    const stream = subscribe<EventOut>(client, EVENTS, { id: created.id });
    await stream.done;
    const events = stream.results.map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.trainingProgress;
    });
    const epochs = events.filter((e) => e.type === 'EPOCH').map((e) => e.epoch!);
    expect(epochs.map((e) => e.epoch)).toEqual([1]);
    // generatorLoss: reconstruction MSE of [-1, 1] pixels; discriminatorLoss: the sparsity penalty; no D.
    expect(epochs[0].generatorLoss).toBeGreaterThan(0);
    expect(epochs[0].generatorLoss).toBeLessThan(4);
    expect(epochs[0].discriminatorLoss).toBeGreaterThan(0);
    expect([epochs[0].dAccuracyReal, epochs[0].dAccuracyFake, epochs[0].testError]).toEqual([0, 0, null]);
    expect(pngOf(epochs[0].samples.dataUrl)).toMatchObject({ width: 242, height: 242, channels: 1 });
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'END', state: 'SUCCEEDED', error: null });
    expect(end.modelId).toMatch(/^mlp-autoencoder-mnist@/);

    const samples = await server.gql<{ samples: { modelId: string; image: { width: number; height: number; dataUrl: string } }[] }>(
      'query($m: ID!) { samples(modelId: $m, count: 2, seed: 5) { modelId image { width height dataUrl } } }',
      { m: end.modelId },
    );
    expect(samples.errors).toBeUndefined();
    expect(samples.data!.samples.map((s) => [s.modelId, s.image.width, s.image.height])).toEqual([
      [end.modelId, 28, 28],
      [end.modelId, 28, 28],
    ]);
    expect(pngOf(samples.data!.samples[0].image.dataUrl).width).toBe(28);

    const models = await server.gql<{ models: { id: string; path?: string }[] }>('{ models { id } }');
    expect(models.data!.models.map((m) => m.id)).toContain(end.modelId);
    const folder = `mlp-autoencoder-mnist-${end.modelId!.split('@')[1]}`;
    const manifest = JSON.parse(readFileSync(path.join(server.ganql.config.modelsDir, folder, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      architecture: 'autoencoder',
      latentSize: 16,
      generatorPath: 'decoder',
      featureNetwork: { path: 'encoder', role: 'encoder', inputRange: [-1, 1] },
    });
    expect(manifest.training.command).toContain('"mode":"autoencoder"');
  });

  it('refuses GAN-only options in AUTOENCODER mode as BAD_USER_INPUT', async () => {
    const refused = await server.gql(START, { input: { mode: 'AUTOENCODER', epochs: 1, k: 2 } });
    expect(refused.errors?.[0]).toMatchObject({
      message: 'k: expected none in autoencoder mode (there is no discriminator to step), got 2',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const dcgan = await server.gql(START, { input: { mode: 'AUTOENCODER', architecture: 'DCGAN', epochs: 1 } });
    expect(dcgan.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(dcgan.errors?.[0]?.message).toBe('architecture: expected "mlp" in autoencoder mode (the sparse autoencoder is a dense network), got "dcgan"');
  });
});

describe('the shipped feature learner', () => {
  let shipped: TestServer;

  beforeAll(async () => {
    // The real models folder (the other server trains into a copy holding dcgan-mnist only).
    shipped = await startTestServer();
  });

  afterAll(async () => {
    await shipped?.stop();
  });

  it('serves the shipped models/mnist-autoencoder: a 16-value code decodes to a digit image', async () => {
    const body = await shipped.gql<{
      models: { id: string; architecture: string; latentSize: number; trainingSeed: number }[];
      samples: { image: { width: number; height: number } }[];
    }>(`{ models { id architecture latentSize trainingSeed } samples(modelId: "${SHIPPED}", count: 2, seed: 1) { image { width height } } }`);
    expect(body.errors).toBeUndefined();
    expect(body.data!.models.find((m) => m.id === SHIPPED)).toEqual({ id: SHIPPED, architecture: 'autoencoder', latentSize: 16, trainingSeed: 42 });
    expect(body.data!.samples.map((s) => [s.image.width, s.image.height])).toEqual([
      [28, 28],
      [28, 28],
    ]);
  });
});
