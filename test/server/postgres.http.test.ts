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
    // The first run is the start-up seed of the "default" alias.
    expect(runs.data!.runs.totalCount).toBe(4);
    expect(runs.data!.runs.edges.map((e) => [e.node.kind, e.node.status])).toEqual([
      ['SAMPLE', 'FAILED'],
      ['REGENERATE', 'SUCCEEDED'],
      ['SAMPLE', 'SUCCEEDED'],
      ['SET_MODEL_ALIAS', 'SUCCEEDED'],
    ]);
    expect(runs.data!.runs.edges[2].node.sampleIds).toEqual(made.data!.samples.map((s) => s.id));
  });

  it('runs an evaluation with progress, caches the reference statistics (BYTEA) and stores the results', async () => {
    const started = await server.gql<{ evaluate: { id: string; modelId: string } }>(
      'mutation { evaluate(metrics: [INCEPTION_SCORE, FID, KID], samples: 100, splits: 1) { id modelId } }',
    );
    expect(started.errors).toBeUndefined();
    const id = started.data!.evaluate.id;
    expect(started.data!.evaluate.modelId).not.toBeNull();
    let status = 'RUNNING';
    let progress = 0;
    while (status === 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ({ status, progress } = (await server.gql<{ run: { status: string; progress: number } }>(`{ run(id: "${id}") { status progress } }`)).data!.run);
    }
    expect([status, progress]).toEqual(['SUCCEEDED', 1]);
    const result = await server.gql<{ evaluation: { inceptionScore: { mean: number }; fid: number; kid: { mean: number }; referenceImages: number } }>(
      `{ evaluation(runId: "${id}") { inceptionScore { mean } fid kid { mean } referenceImages } }`,
    );
    expect(result.errors).toBeUndefined();
    const e = result.data!.evaluation;
    expect(e.inceptionScore.mean).toBeGreaterThan(1);
    expect(e.inceptionScore.mean).toBeLessThan(10);
    expect(Number.isFinite(e.fid) && Number.isFinite(e.kid.mean)).toBe(true);
    expect(e.referenceImages).toBe(9000);
    const stats = await server.ganql.database.prisma.referenceStats.findFirst();
    expect(stats).toMatchObject({ scorer: 'mnist-cnn', dataset: 'mnist', split: 'train', count: 9000, dim: 128 });
    expect(stats!.cov.length).toBe(128 * 128 * 8);
  });
});
