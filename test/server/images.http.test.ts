import { createHash, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { decodePng } from '../../src/images/png';
import { sampleImageUrl } from '../../src/server/images';
import { pngBytes } from '../helpers/data-url';
import { startTestServer, type TestServer } from '../helpers/server';

const ALLOWED = 'https://app.example.com';
const REFUSED = 'https://elsewhere.example.com';
/** Small enough that 16 digits do not all fit, so the first ones of a request are regenerated. */
const CACHE_BYTES = 4096;

interface SampleOut {
  id: string;
  image: { url: string | null; dataUrl: string };
}

let server: TestServer;
let keys: ApiKeyService;
let admin: string;
let sampler: string;
let reader: string;

/** The server's real auth defaults (anonymous localhost may sample), CORS for one origin, /metrics needing "read". */
const ENV = {
  GANQL_ANONYMOUS_SCOPES: undefined,
  GANQL_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`,
  GANQL_METRICS_SCOPE: 'read',
  GANQL_IMAGE_CACHE_BYTES: String(CACHE_BYTES),
} as unknown as NodeJS.ProcessEnv;

async function gql<T>(query: string, key = admin): Promise<T> {
  const res = await server.http.post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${key}`).send({ query });
  expect(res.body.errors).toBeUndefined();
  return res.body.data as T;
}

async function samples(count: number, seed: number): Promise<SampleOut[]> {
  return (await gql<{ samples: SampleOut[] }>(`{ samples(count: ${count}, seed: ${seed}) { id image { url dataUrl } } }`)).samples;
}

async function metric(name: string, labels = ''): Promise<number> {
  const text = (await server.http.get('/metrics').set('authorization', `Bearer ${reader}`)).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  expect(line, `${name}${labels} in /metrics`).toBeDefined();
  return Number(line!.split(' ')[1]);
}

async function regenerateRuns(): Promise<{ parameters: unknown }[]> {
  const data = await gql<{ runs: { edges: { node: { parameters: unknown } }[] } }>(
    '{ runs(first: 100, filter: { kind: REGENERATE }) { edges { node { parameters } } } }',
  );
  return data.runs.edges.map((e) => e.node);
}

function errorOf(res: Response): { code?: string; message: string } {
  const body = res.body as { errors?: { message: string; extensions?: { code?: string } }[] };
  expect(body.errors).toHaveLength(1);
  return { code: body.errors![0].extensions?.code, message: body.errors![0].message };
}

/** Answers 200/304 with a body as a Buffer (supertest leaves image/png unparsed otherwise). */
function getImage(url: string) {
  return server.http
    .get(url)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
}

beforeAll(async () => {
  server = await startTestServer({}, ENV);
  keys = new ApiKeyService(server.ganql.database.prisma);
  admin = (await keys.create('admin', 'admin', 0)).token;
  sampler = (await keys.create('sampler', 'sample', 0)).token;
  reader = (await keys.create('reader', 'read', 0)).token;
});

afterAll(async () => {
  await server?.stop();
});

describe('Image.url', () => {
  it('is /images/<sample id>.png for samples, and null for images without a sample record', async () => {
    const [a, b] = await samples(2, 11);
    expect(a.image.url).toBe(`/images/${a.id}.png`);
    expect(b.image.url).toBe(`/images/${b.id}.png`);
    const walk = await gql<{ interpolate: { samples: SampleOut[]; grid: { url: string | null; dataUrl: string } } }>(
      `{ interpolate(from: { sampleId: "${a.id}" }, to: { sampleId: "${b.id}" }, steps: 3) { samples { id image { url dataUrl } } grid { url dataUrl } } }`,
    );
    expect(walk.interpolate.grid.url).toBeNull();
    expect(walk.interpolate.grid.dataUrl.startsWith('data:image/png;base64,')).toBe(true);
    expect(walk.interpolate.samples.map((s) => s.image.url)).toEqual(walk.interpolate.samples.map((s) => `/images/${s.id}.png`));
  });

  it('is absolute under a public base URL, with its path prefix', () => {
    expect(sampleImageUrl(undefined)('abc-1')).toBe('/images/abc-1.png');
    expect(sampleImageUrl('https://ganql.example.com/studio-api')('abc-1')).toBe('https://ganql.example.com/studio-api/images/abc-1.png');
  });
});

describe('GET /images/<id>.png', () => {
  it("serves the dataUrl's bytes with a strong ETag, cacheable for good; 304 for a matching If-None-Match", async () => {
    const [first] = await samples(1, 21);
    const expected = pngBytes(first.image.dataUrl);
    const cachedBefore = await metric('ganql_image_requests_total', '{result="cached"}');

    const res = await getImage(first.image.url!);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(Buffer.compare(res.body as Buffer, expected)).toBe(0);
    const etag = res.headers.etag;
    expect(etag).toBe(`"${createHash('sha256').update(expected).digest().subarray(0, 16).toString('base64url')}"`);
    // Just generated by samples: served from memory, no run.
    expect(await metric('ganql_image_requests_total', '{result="cached"}')).toBe(cachedBefore + 1);

    const again = await getImage(first.image.url!).set('if-none-match', etag);
    expect(again.status).toBe(304);
    expect((again.body as Buffer).length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    // As fetch() sends it (it adds Cache-Control: no-cache to conditional requests), weakly, in a list, or "*".
    for (const condition of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const revalidated = await getImage(first.image.url!).set('if-none-match', condition).set('cache-control', 'no-cache');
      expect(revalidated.status, condition).toBe(304);
    }
    const other = await getImage(first.image.url!).set('if-none-match', '"not-this-one"');
    expect(other.status).toBe(200);
    expect(Buffer.compare(other.body as Buffer, expected)).toBe(0);
    const head = await server.http.head(first.image.url!);
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(etag);
  });

  it('regenerates an image no longer in memory from its record, byte for byte, recorded as a REGENERATE run', async () => {
    const batch = await samples(16, 22);
    const sizes = batch.map((s) => pngBytes(s.image.dataUrl).length);
    // The cache keeps the newest that fit: the first sample can only be there if all 16 fit.
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(CACHE_BYTES);
    const tensorsBefore = await metric('ganql_inference_tensors');
    const regeneratedBefore = await metric('ganql_image_requests_total', '{result="regenerated"}');
    const runsBefore = (await regenerateRuns()).length;

    const [oldest] = batch;
    const res = await getImage(oldest.image.url!);
    expect(res.status).toBe(200);
    expect(Buffer.compare(res.body as Buffer, pngBytes(oldest.image.dataUrl))).toBe(0);
    const decoded = decodePng(res.body as Buffer);
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([28, 28, 1]);
    expect(await metric('ganql_image_requests_total', '{result="regenerated"}')).toBe(regeneratedBefore + 1);
    const runs = await regenerateRuns();
    expect(runs.length).toBe(runsBefore + 1);
    expect(runs[0].parameters).toEqual({ sampleId: oldest.id, image: true });

    // Now in memory again: no further run.
    const cached = await getImage(oldest.image.url!);
    expect(cached.status).toBe(200);
    expect(cached.headers.etag).toBe(res.headers.etag);
    expect((await regenerateRuns()).length).toBe(runsBefore + 1);
    expect(await metric('ganql_inference_tensors')).toBe(tensorsBefore);
  });

  it('is 404 NOT_FOUND for a sample that does not exist, records no run, and for names that are not sample ids', async () => {
    const runsBefore = (await regenerateRuns()).length;
    const missing = randomUUID();
    const res = await server.http.get(`/images/${missing}.png`);
    expect(res.status).toBe(404);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(errorOf(res)).toEqual({ code: 'NOT_FOUND', message: `sample ${JSON.stringify(missing)} not found` });
    expect((await regenerateRuns()).length).toBe(runsBefore);
    for (const path of [`/images/${missing}.jpg`, '/images/..%2Fpackage.json', '/images/', `/images/${missing}.png/x`]) {
      const other = await server.http.get(path);
      expect(other.status, path).toBe(404);
      expect(errorOf(other).code, path).toBe('NOT_FOUND');
    }
    const post = await server.http.post(`/images/${missing}.png`);
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('needs the sample scope: a key without it is 403 FORBIDDEN, a bad key 401; a key gets a private response', async () => {
    const [one] = await samples(1, 23);
    const withReader = await server.http.get(one.image.url!).set('authorization', `Bearer ${reader}`);
    expect(withReader.status).toBe(403);
    const forbidden = errorOf(withReader);
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(forbidden.message).toMatch(/^GET \/images: expected an API key with scope "sample", got key [0-9a-f]{12} with "read"$/);

    const forged = sampler.slice(0, -4) + (sampler.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bad = await server.http.get(one.image.url!).set('authorization', `Bearer ${forged}`);
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer realm="ganql"');
    expect(errorOf(bad)).toEqual({ code: 'UNAUTHENTICATED', message: 'unknown API key' });
    const malformed = await server.http.get(one.image.url!).set('x-api-key', 'not-a-key');
    expect(malformed.status).toBe(401);
    expect(errorOf(malformed).code).toBe('UNAUTHENTICATED');

    const keyed = await getImage(one.image.url!).set('authorization', `Bearer ${sampler}`);
    expect(keyed.status).toBe(200);
    expect(keyed.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(Buffer.compare(keyed.body as Buffer, pngBytes(one.image.dataUrl))).toBe(0);
  });

  it("applies the key's rate limit", async () => {
    const slow = await keys.create('slow images', 'sample', 0.5); // burst 1
    const [one] = await samples(1, 24);
    expect((await server.http.get(one.image.url!).set('authorization', `Bearer ${slow.token}`)).status).toBe(200);
    const limited = await server.http.get(one.image.url!).set('authorization', `Bearer ${slow.token}`);
    expect(limited.status).toBe(429);
    expect(errorOf(limited).code).toBe('RATE_LIMITED');
  });
});

describe('CORS', () => {
  const preflight = (path: string, origin: string) =>
    server.http
      .options(path)
      .set('origin', origin)
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'authorization, content-type');

  it('answers a preflight from an allowed origin with that origin, the key and JSON headers, and no credentials', async () => {
    for (const path of ['/graphql', '/images/x.png']) {
      const res = await preflight(path, ALLOWED);
      expect(res.status, path).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(res.headers['access-control-allow-methods']).toBe('GET,HEAD,POST');
      expect(res.headers['access-control-allow-headers'].toLowerCase().split(',')).toEqual(
        expect.arrayContaining(['authorization', 'content-type', 'x-api-key']),
      );
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers.vary).toMatch(/Origin/);
    }
  });

  it('gives a refused origin no Access-Control-Allow-Origin, on preflights and requests', async () => {
    const res = await preflight('/graphql', REFUSED);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const post = await server.http.post('/graphql').set('origin', REFUSED).set('authorization', `Bearer ${admin}`).send({ query: '{ models { id } }' });
    expect(post.status).toBe(200);
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets an allowed origin read answers, refusals and image ETags', async () => {
    const post = await server.http.post('/graphql').set('origin', ALLOWED).set('authorization', `Bearer ${admin}`).send({ query: '{ models { id } }' });
    expect(post.status).toBe(200);
    expect(post.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(post.headers['access-control-expose-headers']).toBe('ETag,Retry-After,X-Request-Id');
    const refused = await server.http.post('/graphql').set('origin', ALLOWED).set('authorization', 'Bearer gq_bad').send({ query: '{ models { id } }' });
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(ALLOWED);
    const [one] = await samples(1, 25);
    const image = await server.http.get(one.image.url!).set('origin', ALLOWED);
    expect(image.status).toBe(200);
    expect(image.headers['access-control-allow-origin']).toBe(ALLOWED);
    const health = await server.http.get('/healthz').set('origin', 'http://localhost:5173');
    expect(health.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });
});

describe('GET /metrics with GANQL_METRICS_SCOPE', () => {
  it('needs a key with that scope', async () => {
    const none = await server.http.get('/metrics');
    expect(none.status).toBe(401);
    expect(errorOf(none)).toEqual({
      code: 'UNAUTHENTICATED',
      message:
        'GET /metrics: expected an API key with scope "read" (header "Authorization: Bearer gq_..."), got none; requests without a key from localhost may use only "sample"',
    });
    const wrong = await server.http.get('/metrics').set('authorization', `Bearer ${sampler}`);
    expect(wrong.status).toBe(403);
    expect(errorOf(wrong).code).toBe('FORBIDDEN');
    const ok = await server.http.get('/metrics').set('authorization', `Bearer ${reader}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/^ganql_image_cache_bytes \d+$/m);
    expect(await metric('ganql_auth_refusals_total', '{reason="forbidden"}')).toBeGreaterThanOrEqual(2);
  });
});
