import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { DatabaseRateLimiter } from '../../src/auth/database-rate-limiter';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';
import { MODELS_DIR, startTestServer, type GqlBody, type TestServer } from '../helpers/server';

const pgServer = postgresUrl();

const manifestOf = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown> & { name: string; version: string };
const shipped = (() => {
  const m = manifestOf(path.join(MODELS_DIR, 'dcgan-mnist'));
  return `${m.name}@${m.version}`;
})();
const COPY = 'dcgan-copy@1';

/** Polls `read` until `done` holds (replicas apply each other's changes within a poll); fails after `ms`. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!pgServer)('two replicas on one PostgreSQL database share rate limits, aliases and archive marks (GANQL_TEST_POSTGRES_URL)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-shared-state-'));
  const modelsDir = path.join(dir, 'models');
  let db: { url: string; drop: () => Promise<void> };
  let a: TestServer;
  let b: TestServer;
  let admin: string;

  async function gql<T>(server: TestServer, query: string, key = admin): Promise<{ status: number; retryAfter?: string; body: GqlBody<T> }> {
    const res = await server.http.post('/graphql').set('authorization', `Bearer ${key}`).send({ query });
    return { status: res.status, retryAfter: res.headers['retry-after'], body: res.body as GqlBody<T> };
  }

  const unnamedModel = async (server: TestServer) =>
    (await gql<{ samples: { modelId: string }[] }>(server, '{ samples(count: 1, seed: 1) { modelId } }')).body.data?.samples[0].modelId;
  const servedIds = async (server: TestServer) => (await gql<{ models: { id: string }[] }>(server, '{ models { id } }')).body.data!.models.map((m) => m.id);

  beforeAll(async () => {
    db = await createTempDatabase(pgServer!);
    // One models folder for both, as replicas share GANQL_MODELS_DIR: the shipped DCGAN and a copy under another id.
    cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(modelsDir, 'dcgan-mnist'), { recursive: true });
    cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(modelsDir, 'dcgan-copy'), { recursive: true });
    writeFileSync(
      path.join(modelsDir, 'dcgan-copy', 'manifest.json'),
      JSON.stringify({ ...manifestOf(path.join(MODELS_DIR, 'dcgan-mnist')), name: 'dcgan-copy', version: '1' }),
    );
    const env = {
      DATABASE_URL: db.url,
      GANQL_ANONYMOUS_SCOPES: 'sample',
      GANQL_INFERENCE_WORKERS: '0',
      GANQL_MODEL_STATE_POLL_MS: '200',
      // Keys without a rate of their own keep a burst of 400 x their rate: 0.01 requests/s gives 4 at once, then one per 100 s.
      GANQL_KEY_RATE_LIMIT: '1',
      GANQL_KEY_RATE_BURST: '400',
    };
    const models = { modelsDir, scorersDir: path.join(MODELS_DIR, 'scorers') };
    a = await startTestServer(models, env);
    b = await startTestServer(models, env);
    admin = (await new ApiKeyService(a.ganql.database.prisma).create('operator', 'admin,read', 0)).token;
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("one key's limit holds across both replicas: 4 requests in all, not 4 on each", async () => {
    const slow = (await new ApiKeyService(a.ganql.database.prisma).create('slow', 'sample', 0.01)).token;
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push({ replica: i % 2 === 0 ? 'a' : 'b', ...(await gql(i % 2 === 0 ? a : b, '{ serverInfo { database } }', slow)) });
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect(new Set(replies.filter((r) => r.status === 429).map((r) => r.replica))).toEqual(new Set(['a', 'b']));
    const refused = replies[4];
    expect(refused.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    // The next token comes 100 s after the first of the burst.
    expect(Number(refused.retryAfter)).toBeGreaterThan(90);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(100);
  });

  it('the database limiter is a token bucket: burst, then refused with the wait until the next token', async () => {
    const limiter = new DatabaseRateLimiter(a.ganql.database);
    const limit = { ratePerSecond: 0.001, burst: 2 };
    const decisions = [await limiter.take('bucket-test', limit), await limiter.take('bucket-test', limit), await limiter.take('bucket-test', limit)];
    expect(decisions.slice(0, 2)).toEqual([{ allowed: true }, { allowed: true }]);
    expect(decisions[2].allowed).toBe(false);
    const wait = decisions[2].allowed ? 0 : decisions[2].retryAfterSeconds;
    expect(wait).toBeGreaterThan(990);
    expect(wait).toBeLessThanOrEqual(1000);
    expect(await limiter.take('bucket-test', { ratePerSecond: 0, burst: 1 })).toEqual({ allowed: true });
    const rows = await a.ganql.database.query<{ key: string }>('SELECT "key" FROM "RateLimit" WHERE "key" = ?', ['bucket-test']);
    expect(rows).toHaveLength(1);
  });

  it('an alias set on one replica is used by the other', async () => {
    expect(await unnamedModel(a)).toBe(shipped);
    expect(await unnamedModel(b)).toBe(shipped);
    expect((await gql(a, `mutation { setModelAlias(alias: "default", modelId: "${COPY}") { alias } }`)).body.errors).toBeUndefined();
    expect(await unnamedModel(a)).toBe(COPY);
    expect(
      await eventually(
        () => unnamedModel(b),
        (id) => id === COPY,
      ),
    ).toBe(COPY);
    expect((await gql(b, `mutation { setModelAlias(alias: "default", modelId: "${shipped}") { alias } }`)).body.errors).toBeUndefined();
    expect(
      await eventually(
        () => unnamedModel(a),
        (id) => id === shipped,
      ),
    ).toBe(shipped);
  });

  it('a version archived on one replica stops being served on the other, its records readable there; unarchived there, it is served on both', async () => {
    const made = await gql<{ samples: { id: string; runId: string }[] }>(b, `{ samples(modelId: "${COPY}", count: 1, seed: 4) { id runId } }`);
    const sample = made.body.data!.samples[0];
    expect((await gql(a, `mutation { archiveModel(id: "${COPY}") { id } }`)).body.errors).toBeUndefined();
    expect(
      await eventually(
        () => servedIds(b),
        (ids) => !ids.includes(COPY),
      ),
    ).toEqual([shipped]);
    const refused = await gql(b, `{ samples(modelId: "${COPY}", count: 1) { id } }`);
    expect(refused.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(refused.body.errors?.[0].message).toContain('is archived');
    const record = await gql<{ run: { status: string; sampleIds: string[] } }>(b, `{ run(id: "${sample.runId}") { status sampleIds } }`);
    expect(record.body.data!.run).toEqual({ status: 'SUCCEEDED', sampleIds: [sample.id] });

    expect((await gql(b, `mutation { unarchiveModel(id: "${COPY}") { id } }`)).body.errors).toBeUndefined();
    expect(
      await eventually(
        () => servedIds(a),
        (ids) => ids.includes(COPY),
      ),
    ).toEqual([COPY, shipped]);
    const again = await gql<{ sample: { modelId: string } }>(a, `{ sample(id: "${sample.id}") { modelId } }`);
    expect(again.body.data!.sample.modelId).toBe(COPY);
  });

  it('an alias set on one replica while the version is archived on the other: one of the two wins, never both', async () => {
    const [aliased, archived] = await Promise.all([
      gql(a, `mutation { setModelAlias(alias: "race", modelId: "${COPY}") { alias } }`),
      gql(b, `mutation { archiveModel(id: "${COPY}") { id } }`),
    ]);
    const won = [aliased, archived].filter((r) => r.body.errors === undefined);
    expect(won).toHaveLength(1);
    const broken = await a.ganql.database.query<{ name: string }>(
      'SELECT a."name" FROM "ModelAlias" a JOIN "Model" m ON m."id" = a."modelId" WHERE m."archivedAt" IS NOT NULL',
      [],
    );
    expect(broken).toEqual([]);
  });
});
