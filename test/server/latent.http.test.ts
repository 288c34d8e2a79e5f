import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { startTestServer, type TestServer } from '../helpers/server';

interface S {
  id: string;
  latent: number[];
  image: { dataUrl: string; width: number; height: number };
}
interface Img {
  dataUrl: string;
  width: number;
  height: number;
}

const SAMPLE = 'id latent image { dataUrl width height }';
const pixels = (dataUrl: string) => decodePng(Buffer.from(dataUrl.split(',')[1], 'base64'));
const f32 = (values: number[]) => Array.from(Float32Array.from(values));

let server: TestServer;
let seeded: S[];
let latentSize: number;

async function interpolate(args: Record<string, unknown>) {
  return server.gql<{ interpolate: { runId: string; method: string; samples: S[]; grid: Img } }>(
    `query($from: LatentRefInput!, $to: LatentRefInput!, $steps: Int, $method: InterpolationMethod) {
      interpolate(from: $from, to: $to, steps: $steps, method: $method) { runId method samples { ${SAMPLE} } grid { dataUrl width height } } }`,
    args,
  );
}

interface Arith {
  runId: string;
  seed: number;
  result: S;
  neighbours: S[];
  concepts: { coefficient: number; exemplarCount: number; mean: S }[];
  grid: Img;
}
async function arithmetic(args: Record<string, unknown>) {
  return server.gql<{ latentArithmetic: Arith }>(
    `query($terms: [ConceptTermInput!]!, $noise: Float, $neighbours: Int, $seed: Int) {
      latentArithmetic(terms: $terms, noise: $noise, neighbours: $neighbours, seed: $seed) {
        runId seed result { ${SAMPLE} } neighbours { ${SAMPLE} } concepts { coefficient exemplarCount mean { ${SAMPLE} } } grid { dataUrl width height } } }`,
    args,
  );
}

async function regenerate(id: string): Promise<S> {
  const body = await server.gql<{ sample: S }>(`query($id: ID!) { sample(id: $id) { ${SAMPLE} } }`, { id });
  expect(body.errors).toBeUndefined();
  return body.data!.sample;
}

async function newestRun() {
  const body = await server.gql<{
    runs: { edges: { node: { kind: string; status: string; errorCode: string | null; sampleIds: string[]; result: { sampleIds?: string[] } | null } }[] };
  }>('{ runs(first: 1) { edges { node { kind status errorCode sampleIds result } } } }');
  return body.data!.runs.edges[0].node;
}

beforeAll(async () => {
  server = await startTestServer();
  const body = await server.gql<{ samples: S[]; models: { latentSize: number }[] }>(`{ models { latentSize } samples(count: 9, seed: 21) { ${SAMPLE} } }`);
  seeded = body.data!.samples;
  latentSize = body.data!.models[0].latentSize;
});

afterAll(async () => {
  await server?.stop();
});

describe('interpolate', () => {
  it('walks by slerp between two stored samples: endpoints equal the inputs, a grid of the walk, one run', async () => {
    const body = await interpolate({ from: { sampleId: seeded[0].id }, to: { sampleId: seeded[1].id }, steps: 5 });
    expect(body.errors).toBeUndefined();
    const walk = body.data!.interpolate;
    expect(walk.method).toBe('SLERP');
    expect(walk.samples).toHaveLength(5);
    expect(walk.samples[0].latent).toEqual(seeded[0].latent);
    expect(walk.samples[4].latent).toEqual(seeded[1].latent);
    expect(walk.samples[0].image.dataUrl).toBe(seeded[0].image.dataUrl);
    expect(walk.samples[4].image.dataUrl).toBe(seeded[1].image.dataUrl);
    // Slerp keeps the norm between the endpoints' norms; a linear midpoint would be shorter.
    const norm = (z: number[]) => Math.hypot(...z);
    const [n0, n4, mid] = [norm(seeded[0].latent), norm(seeded[1].latent), norm(walk.samples[2].latent)];
    const linearMid = norm(seeded[0].latent.map((v, i) => (v + seeded[1].latent[i]) / 2));
    expect(mid).toBeGreaterThan(linearMid);
    expect(mid).toBeGreaterThan(Math.min(n0, n4) * 0.97);

    expect([walk.grid.width, walk.grid.height]).toEqual([5 * 28 + 6 * 2, 28 + 2 * 2]);
    expect(pixels(walk.grid.dataUrl).width).toBe(152);
    const run = await newestRun();
    expect(run).toMatchObject({ kind: 'INTERPOLATE', status: 'SUCCEEDED' });
    expect(run.sampleIds).toEqual(walk.samples.map((s) => s.id));
    // Every image of the walk regenerates identically from its id.
    expect((await regenerate(walk.samples[2].id)).image.dataUrl).toBe(walk.samples[2].image.dataUrl);
  });

  it('a linear walk over explicit latents has the mean latent at its midpoint', async () => {
    const a = seeded[2].latent;
    const b = seeded[3].latent;
    const body = await interpolate({ from: { latent: a }, to: { latent: b }, steps: 3, method: 'LINEAR' });
    expect(body.errors).toBeUndefined();
    const walk = body.data!.interpolate;
    expect(walk.method).toBe('LINEAR');
    expect(walk.samples[1].latent).toEqual(f32(a.map((v, i) => (v + b[i]) / 2)));
  });
});

describe('latentArithmetic', () => {
  // Concept vectors made of multiples of 3, so every mean and the sum are exact in float32.
  const vec = (k: number) => Array.from({ length: latentSize }, (_, i) => ((i % 7) - 3) * 0.375 * k + 0); // + 0: no -0, which JSON cannot carry
  const concept = (ks: number[]) => ks.map((k) => ({ latent: vec(k) }));

  it('computes A - B + C of concept means exactly, with noisy neighbours, concept means and a 3x3 box', async () => {
    const terms = [
      { coefficient: 1, exemplars: concept([1, 2, 3]) },
      { coefficient: -1, exemplars: concept([0, 1, 2]) },
      { coefficient: 1, exemplars: concept([-3, 0, 3]) },
    ];
    const body = await arithmetic({ terms, noise: 0.25, neighbours: 8, seed: 5 });
    expect(body.errors).toBeUndefined();
    const out = body.data!.latentArithmetic;
    // means: 2v, 1v, 0v  ->  2v - v + 0 = v
    expect(out.result.latent).toEqual(f32(vec(1)));
    expect(out.concepts.map((c) => [c.coefficient, c.exemplarCount])).toEqual([
      [1, 3],
      [-1, 3],
      [1, 3],
    ]);
    expect(out.concepts.map((c) => c.mean.latent)).toEqual([f32(vec(2)), f32(vec(1)), f32(vec(0))]);
    expect(out.seed).toBe(5);
    expect(out.neighbours).toHaveLength(8);
    for (const n of out.neighbours) {
      expect(n.latent).not.toEqual(out.result.latent);
      n.latent.forEach((v, i) => expect(Math.abs(v - out.result.latent[i])).toBeLessThanOrEqual(0.25 + 1e-6));
    }

    // The box: 3x3 tiles of 28 px with 2 px padding, the result in the centre tile.
    expect([out.grid.width, out.grid.height]).toEqual([92, 92]);
    const grid = pixels(out.grid.dataUrl);
    const centre = pixels(out.result.image.dataUrl);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) expect(grid.data[(32 + y) * 92 + 32 + x]).toBe(centre.data[y * 28 + x]);
    }

    const again = await arithmetic({ terms, noise: 0.25, neighbours: 8, seed: 5 });
    expect(again.data!.latentArithmetic.grid.dataUrl).toBe(out.grid.dataUrl);
    const other = await arithmetic({ terms, noise: 0.25, neighbours: 8, seed: 6 });
    expect(other.data!.latentArithmetic.neighbours[0].latent).not.toEqual(out.neighbours[0].latent);

    const run = await newestRun();
    expect(run).toMatchObject({ kind: 'ARITHMETIC', status: 'SUCCEEDED' });
    expect(run.sampleIds).toHaveLength(1 + 8 + 3);
    const neighbour = await regenerate(out.neighbours[3].id);
    expect(neighbour.image.dataUrl).toBe(out.neighbours[3].image.dataUrl);
    expect((await regenerate(out.concepts[0].mean.id)).latent).toEqual(f32(vec(2)));
  });

  it('takes concepts of three stored samples each, as in the paper', async () => {
    const ids = seeded.map((s) => ({ sampleId: s.id }));
    const terms = [
      { coefficient: 1, exemplars: ids.slice(0, 3) },
      { coefficient: -1, exemplars: ids.slice(3, 6) },
      { coefficient: 1, exemplars: ids.slice(6, 9) },
    ];
    const body = await arithmetic({ terms, seed: 1 });
    expect(body.errors).toBeUndefined();
    const out = body.data!.latentArithmetic;
    const mean = (k: number) => seeded.slice(3 * k, 3 * k + 3).reduce((acc, s) => acc.map((v, i) => v + s.latent[i] / 3), new Array(latentSize).fill(0));
    const expected = mean(0).map((v, i) => v - mean(1)[i] + mean(2)[i]);
    out.result.latent.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(out.neighbours).toHaveLength(8);
    out.neighbours.forEach((n) => n.latent.forEach((v, i) => expect(Math.abs(v - out.result.latent[i])).toBeLessThanOrEqual(0.25 + 1e-6)));
  });
});

describe('bad input to latent operations', () => {
  const z = () => new Array(latentSize).fill(0.5);
  const cases: { name: string; op: 'interpolate' | 'arithmetic'; args: () => Record<string, unknown>; message: RegExp }[] = [
    {
      name: 'unknown sample id',
      op: 'interpolate',
      args: () => ({ from: { sampleId: 'missing' }, to: { latent: z() } }),
      message: /^from\.sampleId: expected the id of a stored sample, got "missing" \(no such sample\)$/,
    },
    {
      name: 'a sample of another model',
      op: 'interpolate',
      args: () => ({ from: { sampleId: 'foreign-sample' }, to: { latent: z() } }),
      message: /^from\.sampleId: expected a sample of model .+, got sample "foreign-sample" of model other@1$/,
    },
    {
      name: 'a latent of the wrong length',
      op: 'interpolate',
      args: () => ({ from: { latent: [1, 2] }, to: { latent: z() } }),
      message: /^from\.latent: expected 100 numbers/,
    },
    {
      name: 'both sampleId and latent',
      op: 'interpolate',
      args: () => ({ from: { sampleId: seeded[0].id, latent: z() }, to: { latent: z() } }),
      message: /^from: expected exactly one of sampleId or latent, got both$/,
    },
    {
      name: 'neither sampleId nor latent',
      op: 'interpolate',
      args: () => ({ from: {}, to: { latent: z() } }),
      message: /^from: expected exactly one of sampleId or latent, got neither$/,
    },
    {
      name: 'steps 1',
      op: 'interpolate',
      args: () => ({ from: { latent: z() }, to: { latent: z() }, steps: 1 }),
      message: /^steps: expected an integer in 2\.\.64, got 1$/,
    },
    {
      name: 'steps 65',
      op: 'interpolate',
      args: () => ({ from: { latent: z() }, to: { latent: z() }, steps: 65 }),
      message: /^steps: expected an integer in 2\.\.64, got 65$/,
    },
    {
      name: '17 terms',
      op: 'arithmetic',
      args: () => ({ terms: Array.from({ length: 17 }, () => ({ coefficient: 1, exemplars: [{ latent: z() }] })) }),
      message: /^terms \(number of terms\): expected an integer in 1\.\.16, got 17$/,
    },
    {
      name: '33 exemplars',
      op: 'arithmetic',
      args: () => ({ terms: [{ coefficient: 1, exemplars: Array.from({ length: 33 }, () => ({ latent: z() })) }] }),
      message: /^terms\[0\]\.exemplars \(number of exemplars\): expected an integer in 1\.\.32, got 33$/,
    },
    {
      name: 'noise above 2',
      op: 'arithmetic',
      args: () => ({ terms: [{ coefficient: 1, exemplars: [{ latent: z() }] }], noise: 2.5 }),
      message: /^noise: expected a number in 0\.\.2, got 2\.5$/,
    },
    {
      name: 'negative noise',
      op: 'arithmetic',
      args: () => ({ terms: [{ coefficient: 1, exemplars: [{ latent: z() }] }], noise: -0.1 }),
      message: /^noise: expected a number in 0\.\.2, got -0\.1$/,
    },
    {
      name: 'an unknown exemplar id',
      op: 'arithmetic',
      args: () => ({ terms: [{ coefficient: 1, exemplars: [{ latent: z() }, { sampleId: 'nope' }] }] }),
      message: /^terms\[0\]\.exemplars\[1\]\.sampleId: expected the id of a stored sample, got "nope"/,
    },
  ];

  beforeAll(async () => {
    const prisma = server.ganql.database.prisma;
    await prisma.model.create({
      data: {
        id: 'other@1',
        name: 'other',
        version: '1',
        architecture: 'dcgan',
        dataset: 'x',
        latentSize: 100,
        imageHeight: 28,
        imageWidth: 28,
        imageChannels: 1,
        path: 'none',
        manifest: '{}',
      },
    });
    await prisma.run.create({ data: { id: 'foreign-run', kind: 'SAMPLE', status: 'SUCCEEDED', parameters: '{}' } });
    await prisma.sample.create({
      data: { id: 'foreign-sample', modelId: 'other@1', runId: 'foreign-run', index: 0, latent: new Uint8Array(400), backend: 'wasm' },
    });
  });

  for (const c of cases) {
    it(`${c.op}: ${c.name} is BAD_USER_INPUT, a FAILED run, and nothing else written`, async () => {
      const prisma = server.ganql.database.prisma;
      const samplesBefore = await prisma.sample.count();
      const body = c.op === 'interpolate' ? await interpolate(c.args()) : await arithmetic(c.args());
      expect(body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0].message).toMatch(c.message);
      const run = await newestRun();
      expect(run).toMatchObject({ kind: c.op === 'interpolate' ? 'INTERPOLATE' : 'ARITHMETIC', status: 'FAILED', errorCode: 'BAD_USER_INPUT', sampleIds: [] });
      expect(await prisma.sample.count()).toBe(samplesBefore);
    });
  }
});
