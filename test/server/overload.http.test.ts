import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('overload over HTTP', () => {
  it('a flood beyond the inference queue gets OVERLOADED at once, FAILED runs, and the server serves normally after it', async () => {
    server = await startTestServer({}, { GANQL_MAX_QUEUE_SIZE: '8', GANQL_MAX_QUEUE_DELAY_MS: '50' });
    const s = server;
    const started = performance.now();
    const flood = await Promise.all(Array.from({ length: 24 }, (_, i) => s.gql<{ samples: { id: string }[] }>(`{ samples(count: 4, seed: ${i}) { id } }`)));
    const overloaded = flood.filter((b) => b.errors?.[0].extensions?.code === 'OVERLOADED');
    const served = flood.filter((b) => b.data?.samples.length === 4);
    expect(overloaded.length + served.length).toBe(24);
    expect(overloaded.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThan(0);
    expect(overloaded[0].errors![0].message).toMatch(/^inference queue full \(\d+ of 8 items waiting, request needs 4\); retry later$/);
    expect(performance.now() - started).toBeLessThan(10_000);

    const failed = await s.gql<{ runs: { totalCount: number } }>('{ runs(first: 1, filter: { status: FAILED }) { totalCount } }');
    expect(failed.data!.runs.totalCount).toBe(overloaded.length);
    const after = await s.gql<{ samples: { id: string }[] }>('{ samples(count: 4, seed: 99) { id } }');
    expect(after.data!.samples).toHaveLength(4);
    const metrics = await s.http.get('/metrics');
    expect(metrics.text).toMatch(new RegExp(`^ganql_inference_requests_total\\{outcome="overloaded"\\} ${overloaded.length}$`, 'm'));
  });

  it('requests beyond admission get HTTP 503 OVERLOADED while /healthz still answers', async () => {
    server = await startTestServer({}, { GANQL_MAX_CONCURRENT_REQUESTS: '1', GANQL_MAX_WAITING_REQUESTS: '0' });
    const s = server;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        s.http.post('/graphql').set('content-type', 'application/json').send({ query: '{ samples(count: 16, seed: 1) { id } }' }),
      ),
    );
    const refused = responses.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0].body.errors[0]).toMatchObject({ extensions: { code: 'OVERLOADED' } });
    expect(refused[0].headers['retry-after']).toBe('1');
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect((await s.http.get('/healthz')).status).toBe(200);
    const metrics = await s.http.get('/metrics');
    expect(metrics.text).toMatch(new RegExp(`^ganql_http_requests_rejected_total ${refused.length}$`, 'm'));
  });
});
