import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { checkInvariants } from '../../bench/lib/db-invariants';
import { generateCorpus, OPERATION_NAMES, pngBomb, type FuzzCase } from '../../bench/lib/hostile-corpus';
import { judge, replay, sendCase } from '../../bench/lib/replay';
import { DIGITS, writeFixtureModel } from '../classify/kplusone-fixture';
import { MODELS_DIR, startTestServer, type TestServer } from '../helpers/server';
import { loadServedGenerator } from '../../src/models/served-generator';

// The server's real auth defaults: anonymous localhost clients may only sample; half the corpus carries an admin key.
const DEFAULTS = { GANQL_ANONYMOUS_SCOPES: undefined, GANQL_LOG_LEVEL: 'silent', GANQL_INFERENCE_WORKERS: '1' } as unknown as NodeJS.ProcessEnv;
const SEED = 20261127;
const CASES = 1200;
const SHIPPED = 'dcgan-mnist@2026-12-06T04-16';
const CLASSIFIER = 'kplusone-fuzz@1';

const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-fuzz-models-'));
let server: TestServer;
let base: string;
let admin: string;

async function gql<T>(
  query: string,
  variables?: Record<string, unknown>,
  key: string | undefined = admin,
): Promise<{ status: number; data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const c: FuzzCase = {
    id: -1,
    name: 'check',
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    auth: key ? 'admin' : 'none',
  };
  const reply = await sendCase(base, c, key);
  return { status: reply.status, ...(JSON.parse(reply.body) as { data?: T }) };
}

beforeAll(async () => {
  cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(modelsDir, 'dcgan-mnist'), { recursive: true });
  await writeFixtureModel(modelsDir, 'kplusone', { name: 'kplusone-fuzz', version: '1', classes: DIGITS, seed: 3 });
  server = await startTestServer({ modelsDir, scorersDir: path.join(MODELS_DIR, 'scorers'), defaultModelId: SHIPPED, host: '127.0.0.1', port: 0 }, DEFAULTS);
  const address = await server.ganql.listen();
  base = `http://127.0.0.1:${address.port}`;
  // Rate limit 0: the corpus goes faster than the default 50 requests/s per key.
  admin = (await new ApiKeyService(server.ganql.database.prisma).create('fuzz', 'admin', 0)).token;
});

afterAll(async () => {
  await server?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

/** Cancels every job a case may have started, and waits until no run is RUNNING. */
async function settle(): Promise<void> {
  const jobs = await gql<{ trainingJobs: { edges: { node: { id: string; state: string } }[] } }>(
    '{ trainingJobs(first: 100) { edges { node { id state } } } }',
  );
  for (const { node } of jobs.data!.trainingJobs.edges) {
    if (node.state === 'QUEUED' || node.state === 'RUNNING') await gql('mutation($id: ID!) { cancelTraining(id: $id) { state } }', { id: node.id });
  }
  const until = performance.now() + 60_000;
  for (;;) {
    const running = await gql<{ runs: { totalCount: number } }>('{ runs(first: 1, filter: { status: RUNNING }) { totalCount } }');
    if (running.data!.runs.totalCount === 0) return;
    if (performance.now() > until) throw new Error('runs still RUNNING 60 s after the corpus');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('hostile input over HTTP, default auth policy', () => {
  it('answers every case of a seeded hostile corpus with a result or coded errors, stays up, and leaves no half-written rows', async () => {
    const made = await gql<{ samples: { id: string }[] }>('{ samples(count: 3, seed: 9) { id } }', undefined, undefined);
    const sampleIds = made.data!.samples.map((s) => s.id);
    const corpus = generateCorpus(SEED, CASES, { modelId: SHIPPED, classifierModelId: CLASSIFIER, latentSize: 100, sampleIds });
    // The corpus reaches every operation of the schema, both ways of asking, and a bad key.
    for (const op of OPERATION_NAMES) expect(corpus.some((c) => c.name === `op.${op}`)).toBe(true);
    expect(new Set(corpus.map((c) => c.auth))).toEqual(new Set(['admin', 'none', 'bad']));
    // conceptFilters loads the dataset's scorer on this thread once and keeps it: load it before counting.
    const warm = await gql<{ conceptFilters: { positiveFilters: number[] } }>(
      `{ conceptFilters(modelId: "${SHIPPED}", layer: "g_up1_relu", concept: "1", count: 1, samples: 50, checkSamples: 10) { positiveFilters } }`,
    );
    expect(warm.errors ?? []).toEqual([]);
    const tensorsBefore = tf.memory().numTensors;
    const versionsBefore = new Set(readdirSync(modelsDir));

    const summary = await replay(base, corpus, { adminKey: admin, concurrency: 4 });
    expect(summary.transportErrors).toEqual([]);
    expect(summary.failures).toEqual([]);
    expect(summary.cases).toBe(CASES);
    // The corpus is hostile: most replies are errors, of several kinds; a few cases are valid and succeed.
    for (const code of [
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'BAD_USER_INPUT',
      'BAD_REQUEST',
      'UNAUTHENTICATED',
      'QUERY_TOO_COMPLEX',
      'NOT_FOUND',
    ]) {
      expect(summary.byCode[code] ?? 0, code).toBeGreaterThan(0);
    }
    expect(summary.byCode.INTERNAL_SERVER_ERROR).toBeUndefined();

    await settle();
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    const after = await gql<{ samples: { id: string; image: { width: number } }[] }>(
      '{ samples(count: 2, seed: 9) { id image { width } } }',
      undefined,
      undefined,
    );
    expect(after.errors).toBeUndefined();
    expect(after.data!.samples.map((s) => s.image.width)).toEqual([28, 28]);
    // A valid training job that slipped through and finished added a version, whose served generator
    // this thread now holds: its weights are the only tensors allowed to stay.
    let added = 0;
    for (const folder of readdirSync(modelsDir).filter((f) => !versionsBefore.has(f))) {
      const generator = await loadServedGenerator(path.join(modelsDir, folder, 'generator'));
      added += generator.weights.length;
      generator.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore + added);

    const report = await checkInvariants(server.ganql.database.prisma);
    expect(report.violations).toEqual({});
    // Refused requests were recorded as FAILED runs (REQUEST for those refused before execution).
    const failed = await gql<{ runs: { totalCount: number } }>('{ runs(first: 1, filter: { status: FAILED, kind: REQUEST }) { totalCount } }');
    expect(failed.data!.runs.totalCount).toBeGreaterThan(10);
  });

  it('codes the cases the fuzzer found answered INTERNAL_SERVER_ERROR (regressions)', async () => {
    const requests = async () =>
      (await gql<{ runs: { totalCount: number } }>('{ runs(first: 1, filter: { kind: REQUEST }) { totalCount } }')).data!.runs.totalCount;
    const before = await requests();
    // Apollo's persisted-query hash check raises an uncoded error.
    const sha = await sendCase(
      base,
      {
        id: 0,
        name: 'apq',
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ models { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }),
        auth: 'none',
      },
      undefined,
    );
    expect(sha.status).toBe(400);
    expect(JSON.parse(sha.body)).toEqual({ errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] });
    // graphql-js gives up coercing variables after 50 errors with an uncoded error.
    const many = await gql('query($l: [[Float!]!]) { samples(latents: $l) { id } }', { l: [Array.from({ length: 100 }, () => 'NaN')] });
    expect(many.status).toBe(400);
    expect(many.errors!.map((e) => e.extensions?.code)).toEqual(Array.from({ length: 51 }, () => 'BAD_USER_INPUT'));
    expect(await requests()).toBe(before + 1);
    // null for an optional filter field is no filter (it reached Prisma as null).
    const all = await gql<{ runs: { totalCount: number } }>('{ runs(first: 1, filter: { kind: null, status: null, modelId: null }) { totalCount } }');
    expect(all.errors).toBeUndefined();
    expect(all.data!.runs.totalCount).toBe((await gql<{ runs: { totalCount: number } }>('{ runs(first: 1) { totalCount } }')).data!.runs.totalCount);
    // after: null (an optional cursor sent as null) reached Prisma as a null id.
    const nullCursor = await gql<{ runs: { totalCount: number } }>('query($a: String) { runs(first: 1, after: $a) { totalCount } }', { a: null });
    expect(nullCursor.errors).toBeUndefined();
    expect(nullCursor.data!.runs.totalCount).toBe(all.data!.runs.totalCount);
    // A lone surrogate ("\ud800" in JSON) reached the database driver, which failed on it.
    const lone = await gql('query($ids: [ID!]!) { nearestNeighbours(sampleIds: $ids) { distance } }', { ids: ['\ud800'] });
    expect(lone).toEqual({
      status: 400,
      errors: [{ message: 'variables.ids[0]: expected well-formed Unicode text, got a lone UTF-16 surrogate', extensions: { code: 'BAD_REQUEST' } }],
    });
    // A 95 KB PNG claiming 30000x30000 pixels: the decoder allocated 3.6 GB and spent ~30 s before the size was checked.
    const t0 = performance.now();
    const bomb = await gql('query($m: ID!, $i: [ImageInput!]!) { classify(modelId: $m, images: $i) { label } }', { m: CLASSIFIER, i: [{ png: pngBomb() }] });
    expect(bomb.errors).toEqual([
      {
        message: 'images[0].png: expected a 28x28 image, got 30000x30000',
        locations: expect.any(Array) as unknown,
        path: ['classify'],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ]);
    expect(performance.now() - t0).toBeLessThan(5000);
    const viaGet = await sendCase(
      base,
      {
        id: 0,
        name: 'get',
        method: 'GET',
        path: `/graphql?${new URLSearchParams({ query: 'query($id: ID!) { run(id: $id) { id } }', variables: JSON.stringify({ id: 'a\udc00' }) })}`,
        headers: { 'apollo-require-preflight': 'true' },
        auth: 'admin',
      },
      admin,
    );
    expect(viaGet.status).toBe(400);
    expect(judge(viaGet).codes).toEqual(['BAD_REQUEST']);
  });

  it('refuses hostile subscriptions over graphql-ws with coded errors and keeps serving', async () => {
    const errors: unknown[] = [];
    const client = createClient({
      url: `${base.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin}` },
      retryAttempts: 0,
    });
    const subscribe = (query: string, variables: Record<string, unknown>) =>
      new Promise<void>((resolve) => {
        client.subscribe({ query, variables }, { next: (v) => errors.push(v), error: (e) => (errors.push(e), resolve()), complete: resolve });
      });
    await subscribe('subscription($id: ID!) { trainingProgress(jobId: $id) { type } }', { id: 'nope' });
    await subscribe('subscription($id: ID!) { trainingProgress(jobId: $id) { type } }', { id: 1e308 });
    await subscribe('subscription { trainingProgress(jobId: "x") { nope } }', {});
    await subscribe('subscription {{', {});
    await subscribe('subscription($id: ID!) { trainingProgress(jobId: $id) { type } }', { id: '\ud800' });
    // Nested past the parser's stack: refused before parsing, as over HTTP.
    await subscribe(`subscription ${'{'.repeat(20_000)}${'}'.repeat(20_000)}`, {});
    await client.dispose();
    const codes = errors
      .flatMap((e) => (Array.isArray(e) ? e : ((e as { errors?: unknown[] }).errors ?? [])) as { extensions?: { code?: string }; message: string }[])
      .map((e) => e.extensions?.code ?? e.message);
    // 1e308 is coerced to the ID "1e+308": an unknown job, like "nope". A syntax error fails its operation, not the socket.
    expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']);

    // Garbage frames on a raw socket: the socket is closed, the server is not.
    const raw = new WebSocket(`${base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)));
    await new Promise((resolve) => raw.on('open', resolve));
    raw.send('not json');
    raw.send(Buffer.from([0xff, 0xfe]));
    expect(await closed).toBeGreaterThanOrEqual(4000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('judges the replies it should refuse: uncoded, internal, leaking or non-JSON', () => {
    expect(judge({ status: 200, contentType: 'application/json', body: '{"data":{"a":1}}' }).ok).toBe(true);
    expect(judge({ status: 400, contentType: 'application/json', body: '{"errors":[{"message":"x","extensions":{"code":"BAD_USER_INPUT"}}]}' }).codes).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(judge({ status: 200, contentType: 'application/json', body: '{"errors":[{"message":"x","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}' }).ok).toBe(
      false,
    );
    expect(judge({ status: 200, contentType: 'application/json', body: '{"errors":[{"message":"x"}]}' }).ok).toBe(false);
    expect(judge({ status: 500, contentType: 'application/json', body: '{"data":{"a":1}}' }).ok).toBe(false);
    expect(judge({ status: 400, contentType: 'text/html', body: '<html>' }).ok).toBe(false);
    expect(
      judge({
        status: 400,
        contentType: 'application/json',
        body: '{"errors":[{"message":"Invalid prisma.run.create() at /work/src/a.ts:3","extensions":{"code":"BAD_USER_INPUT"}}]}',
      }).problems,
    ).toHaveLength(2);
  });
});
