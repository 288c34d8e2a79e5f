import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { createLogger } from '../../src/log/logger';
import { startTestServer, type TestServer } from '../helpers/server';

const lines: string[] = [];
const parsed = (from = 0) => lines.slice(from).map((line) => JSON.parse(line) as Record<string, unknown>);

let server: TestServer;
let sampleKey: string;

beforeAll(async () => {
  // Anonymous clients may only sample, so a `runs` query is refused by the auth checker inside the GraphQL execution.
  server = await startTestServer({}, { GANQL_ANONYMOUS_SCOPES: 'sample' }, { log: createLogger('debug', (line) => lines.push(line)) });
  sampleKey = (await new ApiKeyService(server.ganql.database.prisma).create('sampler', 'sample')).token;
});

afterAll(async () => {
  await server.stop();
});

describe('request ids in the log', () => {
  it("puts the request's id on every line it logs and returns it in X-Request-Id", async () => {
    const from = lines.length;
    const res = await server.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${sampleKey}`)
      .send({ query: '{ runs(first: 1) { totalCount } }' });
    expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const ofRequest = parsed(from);
    // The auth checker's refusal (after the body was parsed) and the closing line, at least.
    expect(ofRequest.map((l) => l.message)).toEqual(expect.arrayContaining(['request refused: scope', 'request finished']));
    expect(ofRequest.every((l) => l.requestId === id)).toBe(true);
    expect(ofRequest.find((l) => l.message === 'request finished')).toMatchObject({ method: 'POST', path: '/graphql', status: 200 });
  });

  it('honours a well-formed incoming x-request-id and replaces a malformed one', async () => {
    const from = lines.length;
    const kept = await server.http.get('/healthz').set('x-request-id', 'edge-42.a');
    expect(kept.headers['x-request-id']).toBe('edge-42.a');
    expect(parsed(from).find((l) => l.message === 'request finished')).toMatchObject({ requestId: 'edge-42.a', path: '/healthz' });
    const replaced = await server.http.get('/healthz').set('x-request-id', 'a b{"x"}');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never writes a presented Authorization header or API key', async () => {
    const from = lines.length;
    const forged = `${sampleKey.slice(0, -4)}AAAA`;
    const refused = await server.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${forged}`)
      .send({ query: '{ models { id } }' });
    expect(refused.status).toBe(401);
    const malformed = await server.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', 'Bearer not-a-key-hunter2')
      .send({ query: '{ models { id } }' });
    expect(malformed.status).toBe(401);
    const written = lines.slice(from).join('\n');
    expect(parsed(from).filter((l) => l.message === 'request refused: bad API key')).toHaveLength(2);
    for (const secret of [sampleKey.slice(16), forged.slice(16), 'hunter2']) expect(written).not.toContain(secret);
  });
});

describe('request ids over graphql-ws', () => {
  let url: string;
  beforeAll(async () => {
    const address = await server.ganql.listen();
    url = `ws://127.0.0.1:${address.port}/graphql`;
  });

  function run(query: string, connectionParams: Record<string, unknown>): Promise<unknown> {
    const client = createClient({ url, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams });
    return new Promise((resolve) => {
      let result: unknown;
      client.subscribe(
        { query },
        {
          next: (value) => (result = value),
          error: (error) => {
            void client.dispose();
            resolve(error);
          },
          complete: () => {
            void client.dispose();
            resolve(result);
          },
        },
      );
    });
  }

  it('gives each operation its own id, tied to its connection, and keeps the connection_init key out of the log', async () => {
    const from = lines.length;
    const refusedTwice = await Promise.all([
      run('{ runs(first: 1) { totalCount } }', { authorization: `Bearer ${sampleKey}` }),
      run('{ runs(first: 1) { totalCount } }', { authorization: `Bearer ${sampleKey}` }),
    ]);
    for (const result of refusedTwice) expect(result).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const refusals = parsed(from).filter((l) => l.message === 'request refused: scope');
    expect(refusals).toHaveLength(2);
    expect(refusals[0].requestId).not.toBe(refusals[1].requestId);
    expect(refusals[0].connectionId).not.toBe(refusals[1].connectionId);
    for (const line of refusals) expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const bad = `${sampleKey.slice(0, -4)}AAAA`;
    expect(await run('{ models { id } }', { authorization: `Bearer ${bad}` })).toMatchObject({ code: 4403 });
    const refused = parsed(from).find((l) => l.message === 'subscription refused: bad API key');
    expect(refused?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const written = lines.slice(from).join('\n');
    for (const secret of [sampleKey.slice(16), bad.slice(16)]) expect(written).not.toContain(secret);
  });

  it("answers the upgrade with the connection's id, honouring the client's, and logs the connection's lines under it", async () => {
    const from = lines.length;
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers: { 'x-request-id': 'ws-conn-7' } });
    const upgraded = new Promise<string | undefined>((resolve) => socket.once('upgrade', (res) => resolve(res.headers['x-request-id'] as string | undefined)));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    expect(await upgraded).toBe('ws-conn-7');
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer gq_0123456789ab_not-the-secret-hunter3' } }));
    expect(await closed).toBe(4403);
    expect(parsed(from).find((l) => l.message === 'subscription refused: bad API key')).toMatchObject({ requestId: 'ws-conn-7' });
    expect(lines.slice(from).join('\n')).not.toContain('hunter3');
  });
});
