import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';
import { subscribe, wsClient } from './graphql-ws-client';

const pgServer = postgresUrl();

describe.skipIf(!pgServer)('training jobs on PostgreSQL (GANQL_TEST_POSTGRES_URL)', () => {
  let server: TestServer;
  let drop: () => Promise<void>;
  let url: string;

  beforeAll(async () => {
    const temp = await createTempDatabase(pgServer!);
    drop = temp.drop;
    server = await startTestServer({ port: 0, host: '127.0.0.1' }, { DATABASE_URL: temp.url }, { tempModels: true });
    url = `http://127.0.0.1:${(await server.ganql.listen()).port}/graphql`;
  });

  afterAll(async () => {
    await server?.stop();
    await drop?.();
  });

  it('fine-tunes, streams, keeps an epoch, stores the sample grids (BYTEA) and serves the new versions', async () => {
    const started = await server.gql<{ startTraining: { id: string; state: string } }>(
      'mutation { startTraining(input: { fineTuneFrom: "dcgan-mnist@2026-12-06T04-16", epochs: 2, keepEvery: 1, batchSize: 32, limit: 64 }) { id state } }',
    );
    expect(started.errors).toBeUndefined();
    const id = started.data!.startTraining.id;
    const client = wsClient(url);
    const stream = subscribe<{ trainingProgress: { type: string; state: string; modelId: string | null; epoch: { epoch: number } | null } }>(
      client,
      'subscription($id: ID!) { trainingProgress(jobId: $id) { type state modelId epoch { epoch } } }',
      { id },
    );
    await stream.done;
    await client.dispose();
    const events = stream.results.map((r) => r.data!.trainingProgress);
    expect(events.filter((e) => e.type === 'EPOCH').map((e) => e.epoch!.epoch)).toEqual([1, 2]);
    expect(events.at(-1)).toMatchObject({ type: 'END', state: 'SUCCEEDED' });

    const job = await server.gql<{
      trainingJob: {
        state: string;
        modelId: string;
        keptModelIds: string[];
        epochs: { epoch: number; samples: { dataUrl: string } }[];
        run: { status: string };
      };
    }>(`{ trainingJob(id: "${id}") { state modelId keptModelIds epochs { epoch samples { dataUrl } } run { status } } }`);
    const j = job.data!.trainingJob;
    expect(j).toMatchObject({ state: 'SUCCEEDED', modelId: events.at(-1)!.modelId, run: { status: 'SUCCEEDED' } });
    expect(j.keptModelIds).toHaveLength(1);
    for (const e of j.epochs) expect(decodePng(Buffer.from(e.samples.dataUrl.split(',')[1], 'base64')).width).toBe(242);
    for (const modelId of [j.modelId, j.keptModelIds[0]]) {
      const made = await server.gql<{ samples: { modelId: string }[] }>(`{ samples(modelId: "${modelId}", count: 2) { modelId } }`);
      expect(made.data!.samples.map((s) => s.modelId)).toEqual([modelId, modelId]);
    }
    const bad = await server.gql('mutation { startTraining(input: { epochs: 0 }) { id } }');
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const failed = await server.gql<{ runs: { totalCount: number } }>('{ runs(filter: { kind: TRAIN, status: FAILED }) { totalCount } }');
    expect(failed.data!.runs.totalCount).toBe(1);
  });
});
