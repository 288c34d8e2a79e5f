import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { startTestServer, type TestServer } from '../helpers/server';
import { pngBytes } from '../helpers/data-url';

interface SampleOut {
  id: string;
  index: number;
  latent: number[];
  modelId: string;
  image: { width: number; height: number; channels: number; mimeType: string; dataUrl: string };
}

const SAMPLE_FIELDS = 'id index latent modelId image { width height channels mimeType dataUrl }';

const png = pngBytes;

let server: TestServer;
let modelId: string;
let latentSize: number;
let mainThreadTensors: number;

async function samples(args: string, variables?: Record<string, unknown>) {
  const vars = variables
    ? `(${Object.keys(variables)
        .map((k) => `$${k}: ${k === 'latents' ? '[[Float!]!]' : 'Int'}`)
        .join(', ')})`
    : '';
  return server.gql<{ samples: SampleOut[] }>(`query${vars} { samples(${args}) { ${SAMPLE_FIELDS} } }`, variables);
}

async function newestRun() {
  const body = await server.gql<{ runs: { totalCount: number; edges: { node: Record<string, unknown> & { sampleIds: string[] } }[] } }>(
    '{ runs(first: 1) { totalCount edges { node { id kind status errorCode errorMessage modelId parameters result sampleIds durationMs backend } } } }',
  );
  expect(body.errors).toBeUndefined();
  return { total: body.data!.runs.totalCount, run: body.data!.runs.edges[0]?.node };
}

beforeAll(async () => {
  server = await startTestServer();
  const body = await server.gql<{ models: { id: string; latentSize: number }[] }>('{ models { id latentSize } }');
  expect(body.data!.models.length).toBeGreaterThan(0);
  // The default model (samples without a modelId come from it).
  ({ id: modelId, latentSize } = body.data!.models.find((m) => m.id.startsWith('dcgan-mnist@'))!);
  mainThreadTensors = tf.memory().numTensors;
});

afterAll(async () => {
  await server?.stop();
});

describe('GET /healthz', () => {
  it('says ok with the database up and models loaded', async () => {
    const res = await server.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', database: 'ok', backend: 'wasm' });
    expect(res.body.models).toBeGreaterThan(0);
  });
});

describe('GET /metrics', () => {
  it('exposes pool, backend and process metrics in Prometheus format', async () => {
    await samples('count: 3, seed: 1');
    const res = await server.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toContain('ganql_backend_info{backend="wasm"} 1');
    expect(res.text).toMatch(/^ganql_inference_requests_total\{outcome="ok"\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^ganql_inference_queue_items 0$/m);
    expect(res.text).toMatch(/^ganql_inference_tensors [1-9]\d*$/m);
    expect(res.text).toMatch(/^ganql_inference_batch_size_count\{model="[^"]+",pass="generate"\} [1-9]\d*$/m);
    expect(res.text).toContain('process_resident_memory_bytes');
  });
});

describe('models', () => {
  it('describes the shipped DCGAN with its provenance and the backend in use', async () => {
    const body = await server.gql<{ models: Record<string, unknown>[]; serverInfo: Record<string, unknown> }>(
      '{ models { id name version architecture dataset latentSize imageShape { height width channels } backend createdAt trainingCommand trainingSeed } serverInfo { backend database customKernels } }',
    );
    expect(body.errors).toBeUndefined();
    const model = body.data!.models.find((m) => m.id === modelId)!;
    expect(model).toMatchObject({
      architecture: 'dcgan',
      dataset: 'mnist',
      latentSize: 100,
      imageShape: { height: 28, width: 28, channels: 1 },
      backend: 'wasm',
    });
    expect(model.trainingCommand).toMatch(/^npm run train -- /);
    expect(body.data!.serverInfo).toMatchObject({ backend: 'wasm', database: 'sqlite' });
  });

  it('model(id) gives NOT_FOUND for an unknown id', async () => {
    const body = await server.gql('{ model(id: "no-such-model@1") { id } }');
    expect(body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(body.errors?.[0].message).toContain('no-such-model@1');
  });
});

describe('samples', () => {
  it('returns 16 decodable 28x28 PNGs for a seed, the same bytes again, and records one run with them', async () => {
    const before = await newestRun();
    const first = await samples('count: 16, seed: 7');
    expect(first.errors).toBeUndefined();
    const list = first.data!.samples;
    expect(list).toHaveLength(16);
    list.forEach((s, i) => {
      expect(s.index).toBe(i);
      expect(s.modelId).toBe(modelId);
      expect(s.latent).toHaveLength(latentSize);
      expect(s.image).toMatchObject({ width: 28, height: 28, channels: 1, mimeType: 'image/png' });
      const decoded = decodePng(png(s.image.dataUrl));
      expect([decoded.width, decoded.height]).toEqual([28, 28]);
    });
    const again = await samples('count: 16, seed: 7');
    expect(again.data!.samples.map((s) => s.image.dataUrl)).toEqual(list.map((s) => s.image.dataUrl));
    expect(new Set([...again.data!.samples, ...list].map((s) => s.id)).size).toBe(32);
    // Sample ids are UUIDv7, in creation order: the second request's all sort after the first's.
    const ids = [...list, ...again.data!.samples].map((s) => s.id);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);

    const after = await newestRun();
    expect(after.total).toBe(before.total + 2);
    expect(after.run).toMatchObject({ kind: 'SAMPLE', status: 'SUCCEEDED', modelId, backend: 'wasm', errorCode: null });
    expect(after.run.sampleIds).toEqual(again.data!.samples.map((s) => s.id));
    expect(after.run.parameters).toMatchObject({ count: 16, seed: 7 });
    expect(after.run.result).toMatchObject({ seed: 7 });
    expect(after.run.durationMs).toBeGreaterThan(0);
  });

  it('looks like ink on paper, not noise: dark background, bright strokes, little grey', async () => {
    const body = await samples('count: 32, seed: 11');
    const pixels = body.data!.samples.flatMap((s) => Array.from(decodePng(png(s.image.dataUrl)).data));
    const share = (test: (v: number) => boolean) => pixels.filter(test).length / pixels.length;
    // MNIST digits: ~84% of pixels < 64, ~11% > 192, ~5% between (an untrained generator is ~100% grey).
    expect(share((v) => v < 64)).toBeGreaterThan(0.6);
    expect(share((v) => v > 192)).toBeGreaterThan(0.04);
    expect(share((v) => v >= 64 && v <= 192)).toBeLessThan(0.2);
  });

  it('a smaller request with the same seed gives the first images of the larger one', async () => {
    const big = await samples('count: 6, seed: 123');
    const small = await samples('count: 3, seed: 123');
    expect(small.data!.samples.map((s) => s.image.dataUrl)).toEqual(big.data!.samples.slice(0, 3).map((s) => s.image.dataUrl));
    const other = await samples('count: 3, seed: 124');
    expect(other.data!.samples[0].image.dataUrl).not.toBe(big.data!.samples[0].image.dataUrl);
  });

  it('uses explicit latents as given', async () => {
    const seeded = await samples('count: 2, seed: 99');
    const latents = seeded.data!.samples.map((s) => s.latent);
    const body = await samples('latents: $latents', { latents });
    expect(body.errors).toBeUndefined();
    expect(body.data!.samples.map((s) => s.latent)).toEqual(latents);
    expect(body.data!.samples.map((s) => s.image.dataUrl)).toEqual(seeded.data!.samples.map((s) => s.image.dataUrl));
    const zero = await samples('latents: $latents', { latents: [new Array(latentSize).fill(0)] });
    expect(zero.data!.samples[0].latent.every((v) => v === 0)).toBe(true);
  });

  it('sample(id) regenerates the same bytes from the stored latent and records a REGENERATE run', async () => {
    const made = (await samples('count: 3, seed: 5')).data!.samples[2];
    const body = await server.gql<{ sample: SampleOut & { run: { id: string; kind: string } } }>(
      `query($id: ID!) { sample(id: $id) { ${SAMPLE_FIELDS} run { id kind } } }`,
      { id: made.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.sample.image.dataUrl).toBe(made.image.dataUrl);
    expect(body.data!.sample.latent).toEqual(made.latent);
    expect(body.data!.sample.index).toBe(2);
    expect(body.data!.sample.run.kind).toBe('SAMPLE');
    const { run } = await newestRun();
    expect(run).toMatchObject({ kind: 'REGENERATE', status: 'SUCCEEDED', modelId, parameters: { sampleId: made.id } });
  });

  it('batches concurrent requests onto shared forward passes, each answered with its run and samples stored', async () => {
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => samples(`count: 1, seed: ${1000 + i}`)));
    expect(results.every((r) => r.data?.samples.length === 1)).toBe(true);
    // Written in group commits with their batch's neighbours: every answer's run and sample are there once answered.
    const ids = results.map((r) => r.data!.samples[0].id);
    const stored = await server.ganql.database.prisma.sample.findMany({ where: { id: { in: ids } }, include: { run: true } });
    expect(stored).toHaveLength(24);
    for (const row of stored) expect(row.run).toMatchObject({ kind: 'SAMPLE', status: 'SUCCEEDED', result: expect.stringContaining(row.id) });
    const info = await server.gql<{ serverInfo: { pool: { largestBatch: number; batches: number; items: number } } }>(
      '{ serverInfo { pool { largestBatch batches items } } }',
    );
    expect(info.data!.serverInfo.pool.largestBatch).toBeGreaterThan(1);
    expect(info.data!.serverInfo.pool.items).toBeGreaterThan(info.data!.serverInfo.pool.batches);
  });

  it('keeps the tensor count of the inference backends flat over 100 requests', async () => {
    const tensors = async () =>
      (await server.gql<{ serverInfo: { pool: { tensors: number; executor: string } } }>('{ serverInfo { pool { tensors executor } } }')).data!.serverInfo.pool;
    await samples('count: 2, seed: 1');
    const before = await tensors();
    // The model's weights at least: a count of 0 would mean nothing was measured.
    expect(before.tensors).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) {
      const body = await samples(`count: 2, seed: ${i}`);
      expect(body.data!.samples).toHaveLength(2);
    }
    expect((await tensors()).tensors).toBe(before.tensors);
    // And nothing leaks on the server's own thread either.
    expect(tf.memory().numTensors).toBe(mainThreadTensors);
  });
});

describe('bad input', () => {
  const latent = (n: number) => new Array(n).fill(0.1);
  const cases: {
    name: string;
    query: string;
    variables?: Record<string, unknown>;
    code: string;
    message: RegExp;
    recorded: 'SAMPLE' | 'REQUEST' | 'REGENERATE';
  }[] = [
    {
      name: 'count 0',
      query: '{ samples(count: 0) { id } }',
      code: 'BAD_USER_INPUT',
      message: /count: expected an integer in 1\.\.256, got 0/,
      recorded: 'SAMPLE',
    },
    {
      name: 'count above the limit',
      query: '{ samples(count: 257) { id } }',
      code: 'BAD_USER_INPUT',
      message: /count: expected an integer in 1\.\.256, got 257/,
      recorded: 'SAMPLE',
    },
    {
      name: 'negative seed',
      query: '{ samples(seed: -3) { id } }',
      code: 'BAD_USER_INPUT',
      message: /seed: expected an integer in 0\.\.2147483647, got -3/,
      recorded: 'SAMPLE',
    },
    {
      name: 'unknown model',
      query: '{ samples(modelId: "ghost@9", count: 2) { id } }',
      code: 'NOT_FOUND',
      message: /model "ghost@9" not found/,
      recorded: 'SAMPLE',
    },
    {
      name: 'latent of the wrong length',
      query: 'query($l: [[Float!]!]) { samples(latents: $l) { id } }',
      variables: { l: [latent(3)] },
      code: 'BAD_USER_INPUT',
      message: /latents\[0\]: expected 100 numbers \(the model's latent size\), got 3/,
      recorded: 'SAMPLE',
    },
    {
      name: 'latents together with a seed',
      query: 'query($l: [[Float!]!]) { samples(latents: $l, seed: 4) { id } }',
      variables: { l: [latent(100)] },
      code: 'BAD_USER_INPUT',
      message: /seed: expected no seed when latents are given/,
      recorded: 'SAMPLE',
    },
    {
      name: 'count that disagrees with the latents',
      query: 'query($l: [[Float!]!]) { samples(latents: $l, count: 5) { id } }',
      variables: { l: [latent(100)] },
      code: 'BAD_USER_INPUT',
      message: /count: expected 1 \(the number of latents\) or no count, got 5/,
      recorded: 'SAMPLE',
    },
    {
      name: 'a latent value beyond float32',
      query: 'query($l: [[Float!]!]) { samples(latents: $l) { id } }',
      variables: { l: [[...latent(99), 1e300]] },
      code: 'BAD_USER_INPUT',
      message: /latents\[0\]\[99\]: expected a number within float32 range, got 1e\+300/,
      recorded: 'SAMPLE',
    },
    {
      name: 'an infinite latent value (JSON 1e999)',
      query: 'query($l: [[Float!]!]) { samples(latents: $l) { id } }',
      variables: { l: [[...latent(99), Infinity]] },
      code: 'BAD_USER_INPUT',
      message: /Float cannot represent non numeric value/,
      recorded: 'REQUEST',
    },
    {
      name: 'a count of the wrong type',
      query: '{ samples(count: "many") { id } }',
      code: 'GRAPHQL_VALIDATION_FAILED',
      message: /Int cannot represent/,
      recorded: 'REQUEST',
    },
    { name: 'unknown sample', query: '{ sample(id: "nope") { id } }', code: 'NOT_FOUND', message: /sample "nope" not found/, recorded: 'REGENERATE' },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.code} and a FAILED ${c.recorded} run`, async () => {
      const before = await newestRun();
      // supertest serialises with JSON.stringify, which turns Infinity into null: send 1e999 literally.
      const res = await server.http
        .post('/graphql')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ query: c.query, variables: c.variables }).replace('null]]', '1e999]]'));
      const error = res.body.errors?.[0];
      expect(error?.extensions?.code).toBe(c.code);
      expect(error?.message).toMatch(c.message);
      const after = await newestRun();
      expect(after.total).toBe(before.total + 1);
      expect(after.run).toMatchObject({ kind: c.recorded, status: 'FAILED', errorCode: c.code });
      expect(after.run.errorMessage).toMatch(c.message);
      expect(after.run.sampleIds).toEqual([]);
    });
  }

  it('runs(first) outside 1..100 is BAD_USER_INPUT', async () => {
    const body = await server.gql('{ runs(first: 0) { totalCount } }');
    expect(body.errors?.[0]).toMatchObject({ message: 'first: expected an integer in 1..100, got 0', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('a malformed JSON body is a 400 with a code, and the server keeps serving', async () => {
    const res = await server.http.post('/graphql').set('content-type', 'application/json').send('{"query": ');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect((await server.http.get('/healthz')).status).toBe(200);
  });
});

describe('runs', () => {
  it('pages newest first with cursors and filters by status', async () => {
    const page1 = await server.gql<{
      runs: { edges: { cursor: string; node: { id: string; createdAt: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    }>('{ runs(first: 3) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }');
    const p1 = page1.data!.runs;
    expect(p1.edges).toHaveLength(3);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const page2 = await server.gql<typeof page1.data>(
      'query($after: String) { runs(first: 3, after: $after) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }',
      { after: p1.pageInfo.endCursor },
    );
    const p2 = page2.data!.runs;
    expect(p2.edges).toHaveLength(3);
    const all = [...p1.edges, ...p2.edges].map((e) => e.node);
    expect(new Set(all.map((r) => r.id)).size).toBe(6);
    for (let i = 1; i < all.length; i++) expect(all[i - 1].createdAt >= all[i].createdAt).toBe(true);

    const failed = await server.gql<{ runs: { totalCount: number; edges: { node: { status: string } }[] } }>(
      '{ runs(first: 100, filter: { status: FAILED }) { totalCount edges { node { status } } } }',
    );
    expect(failed.data!.runs.totalCount).toBeGreaterThan(5);
    expect(failed.data!.runs.edges.every((e) => e.node.status === 'FAILED')).toBe(true);
  });

  it("lists a model's runs on the model", async () => {
    const body = await server.gql<{ model: { runs: { edges: { node: { modelId: string } }[] } } }>(
      `query($id: ID!) { model(id: $id) { runs(first: 5) { edges { node { modelId } } } } }`,
      { id: modelId },
    );
    expect(body.data!.model.runs.edges.length).toBe(5);
    expect(body.data!.model.runs.edges.every((e) => e.node.modelId === modelId)).toBe(true);
  });
});
