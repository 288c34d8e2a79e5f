import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

let server: TestServer;
let modelId: string;

// The defaults except depth: no query this schema accepts reaches 12 levels, so a deep valid query needs a lower limit.
const MAX_DEPTH = 4;

async function poolItems(): Promise<number> {
  const body = await server.gql<{ serverInfo: { pool: { items: number } } }>('{ serverInfo { pool { items } } }');
  expect(body.errors).toBeUndefined();
  return body.data!.serverInfo.pool.items;
}

async function requestRuns() {
  const body = await server.gql<{
    runs: {
      totalCount: number;
      edges: { node: { kind: string; status: string; errorCode: string; errorMessage: string; parameters: { variables: string } } }[];
    };
  }>('{ runs(first: 1, filter: { kind: REQUEST }) { totalCount edges { node { kind status errorCode errorMessage parameters } } } }');
  expect(body.errors).toBeUndefined();
  return { total: body.data!.runs.totalCount, run: body.data!.runs.edges[0]?.node };
}

const aliased = (n: number, field: (i: number) => string) => `{ ${Array.from({ length: n }, (_, i) => `f${i}: ${field(i)}`).join(' ')} }`;
const RUN_FIELDS = 'id kind status errorCode errorMessage modelId parameters result sampleIds durationMs backend createdAt finishedAt progress';

beforeAll(async () => {
  server = await startTestServer({}, { GANQL_MAX_QUERY_DEPTH: String(MAX_DEPTH) });
  const body = await server.gql<{ models: { id: string }[] }>('{ models { id } }');
  modelId = body.data!.models.find((m) => m.id.startsWith('dcgan-mnist@'))!.id;
});

afterAll(async () => {
  await server?.stop();
});

describe('query limits', () => {
  const cases: { name: string; query: () => string; variables?: Record<string, unknown>; message: string }[] = [
    {
      name: 'a query deeper than the limit',
      query: () => `{ model(id: "${modelId}") { runs { edges { node { id } } } } }`,
      message: 'query depth: expected at most 4 levels of nested fields (GANQL_MAX_QUERY_DEPTH), got 5',
    },
    {
      name: 'a flood of 100 aliased samples',
      query: () => aliased(100, () => 'samples(count: 1) { id }'),
      message: 'aliases: expected at most 32 aliased fields (GANQL_MAX_ALIASES), got 100',
    },
    {
      name: 'too many root fields',
      query: () => aliased(17, () => 'models { id }'),
      message: 'root fields: expected at most 16 root fields (GANQL_MAX_ROOT_FIELDS), got 17',
    },
    {
      name: 'too many images in literals',
      query: () => '{ a: samples(count: 200) { id } b: samples(count: 100) { id } }',
      message: 'images per request: expected at most 256 images generated (GANQL_MAX_IMAGES_PER_REQUEST), got 300',
    },
    {
      name: 'too many images in variables',
      query: () => 'query($n: Int, $ids: [ID!]!) { samples(count: $n) { id } nearestNeighbours(sampleIds: $ids) { distance } }',
      variables: { n: 250, ids: Array.from({ length: 10 }, (_, i) => `s${i}`) },
      message: 'images per request: expected at most 256 images generated (GANQL_MAX_IMAGES_PER_REQUEST), got 260',
    },
    {
      name: 'three feature analyses in one request',
      query: () => aliased(3, (i) => `neuronProbe(modelId: "${modelId}", layer: "d_down1", concept: "${i}") { positives }`),
      message:
        'feature analyses per request: expected at most 2 of neuronProbe, optimalStimulus, featureClassifier and conceptFilters (GANQL_MAX_ANALYSES_PER_REQUEST), got 3',
    },
    {
      name: 'a cost over the limit',
      // 7 x (1 + 100 x (edges + node + 14 fields)) = 11207
      query: () => aliased(7, () => `runs(first: 100) { edges { node { ${RUN_FIELDS} } } }`),
      message: 'query cost: expected at most 10000 fields resolved, lists counted per item (GANQL_MAX_QUERY_COST), got 11207',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: QUERY_TOO_COMPLEX naming the limit, a FAILED REQUEST run, no inference`, async () => {
      const items = await poolItems();
      const before = await requestRuns();
      const res = await server.http.post('/graphql').set('content-type', 'application/json').send({ query: c.query(), variables: c.variables });
      expect(res.status).toBe(400);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ message: c.message, extensions: { code: 'QUERY_TOO_COMPLEX' } });
      expect(Object.keys(res.body.errors[0].extensions)).toEqual(['code']);

      const after = await requestRuns();
      expect(after.total).toBe(before.total + 1);
      expect(after.run).toMatchObject({ kind: 'REQUEST', status: 'FAILED', errorCode: 'QUERY_TOO_COMPLEX', errorMessage: c.message });
      if (c.variables) expect(JSON.parse(after.run.parameters.variables)).toEqual(c.variables);
      expect(await poolItems()).toBe(items);
    });
  }

  it('a query within every limit still runs: its images go through the pool', async () => {
    const items = await poolItems();
    const body = await server.gql<{ a: { id: string }[]; b: { id: string }[] }>(
      'query($n: Int) { a: samples(count: $n, seed: 1) { id image { dataUrl } } b: samples(count: 6, seed: 2) { id } }',
      { n: 250 },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.a).toHaveLength(250);
    expect(body.data!.b).toHaveLength(6);
    expect(await poolItems()).toBe(items + 256);
  });
});
