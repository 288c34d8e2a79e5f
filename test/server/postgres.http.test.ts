import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';

const pgServer = postgresUrl();

describe.skipIf(!pgServer)('ganql on PostgreSQL (GANQL_TEST_POSTGRES_URL)', () => {
  let server: TestServer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const temp = await createTempDatabase(pgServer!);
    drop = temp.drop;
    server = await startTestServer({}, { DATABASE_URL: temp.url });
  });

  afterAll(async () => {
    await server?.stop();
    await drop?.();
  });

  it('serves samples, records runs and regenerates by id', async () => {
    const info = await server.gql<{ serverInfo: { database: string } }>('{ serverInfo { database } }');
    expect(info.data!.serverInfo.database).toBe('postgresql');

    const made = await server.gql<{ samples: { id: string; image: { dataUrl: string } }[] }>('{ samples(count: 4, seed: 3) { id image { dataUrl } } }');
    expect(made.errors).toBeUndefined();
    expect(made.data!.samples).toHaveLength(4);

    const again = await server.gql<{ sample: { image: { dataUrl: string } } }>(`{ sample(id: "${made.data!.samples[1].id}") { image { dataUrl } } }`);
    expect(again.data!.sample.image.dataUrl).toBe(made.data!.samples[1].image.dataUrl);

    const bad = await server.gql('{ samples(count: 1000) { id } }');
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    const runs = await server.gql<{ runs: { totalCount: number; edges: { node: { kind: string; status: string; sampleIds: string[] } }[] } }>(
      '{ runs(first: 10) { totalCount edges { node { kind status sampleIds } } } }',
    );
    expect(runs.data!.runs.totalCount).toBe(3);
    expect(runs.data!.runs.edges.map((e) => [e.node.kind, e.node.status])).toEqual([
      ['SAMPLE', 'FAILED'],
      ['REGENERATE', 'SUCCEEDED'],
      ['SAMPLE', 'SUCCEEDED'],
    ]);
    expect(runs.data!.runs.edges[2].node.sampleIds).toEqual(made.data!.samples.map((s) => s.id));
  });
});
