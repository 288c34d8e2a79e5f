import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { resolvePrincipal } from '../../src/server/auth.middleware';
import type { Logger } from '../../src/log/logger';
import { startTestServer, type TestServer } from '../helpers/server';

// The server's real defaults: no GANQL_ANONYMOUS_SCOPES override (sampling open on localhost, everything else keyed).
const DEFAULTS = { GANQL_ANONYMOUS_SCOPES: undefined } as unknown as NodeJS.ProcessEnv;

const logged: { message: string; fields?: Record<string, unknown> }[] = [];
const log: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => logged.push({ message, fields }),
  error: (message, fields) => logged.push({ message, fields }),
};

let server: TestServer;
let keys: ApiKeyService;
let admin: string;

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(
  query: string,
  key?: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; body: Body; headers: Record<string, string> }> {
  let req = server.http.post('/graphql').set('content-type', 'application/json');
  if (key !== undefined) req = req.set('authorization', `Bearer ${key}`);
  const res = await req.send({ query, variables });
  return { status: res.status, body: res.body as Body, headers: res.headers };
}

async function runCount(): Promise<number> {
  const res = await post('{ runs(first: 1) { totalCount } }', admin);
  return (res.body.data!.runs as { totalCount: number }).totalCount;
}

beforeAll(async () => {
  server = await startTestServer({}, DEFAULTS, { log });
  keys = new ApiKeyService(server.ganql.database.prisma);
  admin = (await keys.create('admin', 'admin')).token;
});

afterAll(async () => {
  await server.stop();
});

describe('auth with the default policy', () => {
  it('lets anonymous localhost clients sample, nothing else, and records no run for a refusal', async () => {
    const sampled = await post('{ samples(count: 1, seed: 1) { id } }');
    expect(sampled.status).toBe(200);
    expect(sampled.body.errors).toBeUndefined();

    const before = await runCount();
    const runs = await post('{ runs(first: 1) { totalCount } }');
    expect(runs.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(runs.body.errors?.[0].message).toBe(
      'runs: expected an API key with scope "read" (header "Authorization: Bearer gq_..."), got none; requests without a key from localhost may use only "sample"',
    );
    const train = await post('mutation { startTraining(input: { epochs: 1, architecture: MLP, limit: 64, batchSize: 32 }) { id } }');
    expect(train.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const evaluate = await post('mutation { evaluate(metrics: [INCEPTION_SCORE], samples: 100) { id } }');
    expect(evaluate.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    // A sample's run (read scope) is refused field by field; the sample itself still comes.
    const nested = await post('{ samples(count: 1, seed: 2) { id run { id } } }');
    expect(nested.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await runCount()).toBe(before + 1); // only the nested samples call ran
    expect(logged.some((l) => l.message === 'request refused: scope' && l.fields?.field === 'runs' && l.fields?.scope === 'read')).toBe(true);
  });

  it('gives a key exactly its scopes: FORBIDDEN names what is missing', async () => {
    const reader = await keys.create('reader', 'read');
    const ok = await post('{ runs(first: 1) { totalCount } }', reader.token);
    expect(ok.body.errors).toBeUndefined();
    const denied = await post('{ samples(count: 1) { id } }', reader.token);
    expect(denied.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(denied.body.errors?.[0].message).toBe(`samples: expected an API key with scope "sample", got key ${reader.record.id} with "read"`);
    const train = await post('mutation { cancelTraining(id: "x") { id } }', reader.token);
    expect(train.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // The admin key passes everything, cancelTraining reaching its service (NOT_FOUND for an unknown job).
    const adminCancel = await post('mutation { cancelTraining(id: "x") { id } }', admin);
    expect(adminCancel.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('answers 401 for a malformed, unknown or revoked key, before any GraphQL work', async () => {
    const before = await runCount();
    const malformed = await post('{ samples(count: 1) { id } }', 'not-a-key');
    expect(malformed.status).toBe(401);
    expect(malformed.body.errors?.[0]).toEqual({
      message: 'malformed API key: expected "gq_<id>_<secret>" as created by `npm run keys -- create`',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    const made = await keys.create('soon revoked', 'sample');
    const forged = made.token.slice(0, -4) + (made.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const unknown = await post('{ samples(count: 1) { id } }', forged);
    expect(unknown.status).toBe(401);
    expect(unknown.body.errors?.[0].message).toBe('unknown API key');
    expect((await post('{ samples(count: 1) { id } }', made.token)).status).toBe(200);
    await keys.revoke(made.record.id);
    // The server's own key cache expires within 5 s; a new service instance reads the database at once.
    const revoked = await resolvePrincipal(made.token, '127.0.0.1', {
      apiKeys: new ApiKeyService(server.ganql.database.prisma),
      anonymous: { loopbackScopes: [], remoteScopes: [] },
    }).catch((e: Error) => e);
    expect(revoked).toBeInstanceOf(Error);
    expect((revoked as Error).message).toBe('API key revoked');
    expect(await runCount()).toBe(before + 1); // the one good samples call
    expect(logged.filter((l) => l.message === 'request refused: bad API key').length).toBeGreaterThanOrEqual(2);
  });

  it('stores only a hash of the secret', async () => {
    const made = await keys.create('hashed', 'read');
    const row = await server.ganql.database.prisma.apiKey.findUnique({ where: { id: made.record.id } });
    const secret = made.token.split('_').slice(2).join('_');
    expect(row!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('rate-limits per key with 429 RATE_LIMITED and Retry-After; other keys are not affected', async () => {
    const slow = await keys.create('slow', 'sample', 0.5); // burst = 0.5 * (100 / 50) = 1
    const first = await post('{ models { id } }', slow.token);
    expect(first.status).toBe(200);
    const second = await post('{ models { id } }', slow.token);
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('2');
    expect(second.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(second.body.errors?.[0].message).toBe(`rate limit of key ${slow.record.id} exceeded: 0.5 requests per second (burst 1); retry after 2 s`);
    expect((await post('{ models { id } }', admin)).status).toBe(200);
    const metrics = await server.http.get('/metrics');
    expect(metrics.text).toMatch(/ganql_auth_refusals_total\{reason="rate_limited"\} [1-9]/);
    expect(metrics.text).toMatch(/ganql_auth_refusals_total\{reason="unauthenticated"\} [1-9]/);
    expect(metrics.text).toMatch(/ganql_auth_refusals_total\{reason="forbidden"\} [1-9]/);
  });

  it('keys everything for clients on other hosts by default', async () => {
    const { anonymousLoopbackScopes, anonymousRemoteScopes } = server.ganql.config.auth;
    const anonymous = { loopbackScopes: anonymousLoopbackScopes, remoteScopes: anonymousRemoteScopes };
    const remote = await resolvePrincipal(undefined, '10.1.2.3', { apiKeys: keys, anonymous });
    expect(remote).toEqual({ kind: 'anonymous', loopback: false, scopes: [] });
    const local = await resolvePrincipal(undefined, '::ffff:127.0.0.1', { apiKeys: keys, anonymous });
    expect(local).toEqual({ kind: 'anonymous', loopback: true, scopes: ['sample'] });
  });
});

describe('auth over graphql-ws', () => {
  let url: string;
  beforeAll(async () => {
    const address = await server.ganql.listen();
    url = `ws://127.0.0.1:${address.port}/graphql`;
  });

  function run(
    query: string,
    connectionParams?: Record<string, unknown>,
  ): Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] } | { closed: number }> {
    const client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams });
    return new Promise((resolve) => {
      let result: { data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined;
      client.subscribe(
        { query },
        {
          next: (value) => (result = value as typeof result),
          error: (error) => {
            void client.dispose();
            const code = (error as { code?: number }).code;
            resolve(code !== undefined ? { closed: code } : { errors: error as { extensions?: { code?: string } }[] });
          },
          complete: () => {
            void client.dispose();
            resolve(result ?? {});
          },
        },
      );
    });
  }

  it('refuses a socket with a bad key (4403) and applies scopes to its operations', async () => {
    expect(await run('{ models { id } }', { authorization: 'Bearer gq_nope' })).toEqual({ closed: 4403 });
    const anonymousRead = await run('subscription { trainingProgress(jobId: "x") { type } }');
    expect('errors' in anonymousRead && anonymousRead.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const keyed = await run('subscription { trainingProgress(jobId: "x") { type } }', { authorization: `Bearer ${admin}` });
    expect('errors' in keyed && keyed.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
