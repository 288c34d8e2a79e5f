import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { skipBrowserTests, startStudio, type Studio } from './browser';

// The studio's API modules (lib/api.js over HTTP, lib/subscriptions.js over graphql-ws) in the browser, against the real server.
describe.skipIf(skipBrowserTests('api module'))('the studio API client in a browser', () => {
  let studio: Studio;
  let page: Page;
  let readKey: string;

  beforeAll(async () => {
    // The real default policy: anonymous localhost clients may only sample.
    // Training writes a version: into a temporary copy of the models, never the repo's.
    studio = await startStudio({ env: { GANQL_ANONYMOUS_SCOPES: 'sample' }, server: { tempModels: true } });
    readKey = (await new ApiKeyService(studio.server.ganql.database.prisma).create('reader', 'read')).token;
    ({ page } = await studio.newPage());
    await studio.open(page, 'gallery');
    // The modules as the pages load them (a page.evaluate'd import() would be rewritten by vitest's transform).
    await page.addScriptTag({
      type: 'module',
      content: "import * as api from '/studio/lib/api.js'; import { subscribe } from '/studio/lib/subscriptions.js'; window.ganqlApi = { ...api, subscribe };",
    });
    await page.waitForFunction(() => 'ganqlApi' in window);
  });

  afterAll(async () => {
    await studio?.stop();
  });

  /** Runs `gql` in the page with `key` stored (or none); returns the data or the error's fields and words. */
  function gqlInPage(query: string, variables: Record<string, unknown>, key: string) {
    return page.evaluate(
      async ({ query, variables, key }) => {
        const api = (window as unknown as { ganqlApi: any }).ganqlApi; // eslint-disable-line @typescript-eslint/no-explicit-any -- the browser module, untyped
        api.setApiKey(key);
        try {
          return { data: await api.gql(query, variables) };
        } catch (error) {
          const e = error as { name: string; message: string; code: string; path?: unknown };
          return { error: { name: e.name, message: e.message, code: e.code, path: e.path, words: api.describeError(error) as string } };
        }
      },
      { query, variables, key },
    );
  }

  /** Subscribes in the page and collects what comes until complete or error (or 20 s). */
  function subscribeInPage(query: string, variables: Record<string, unknown>, key: string) {
    return page.evaluate(
      async ({ query, variables, key }) => {
        const api = (window as unknown as { ganqlApi: any }).ganqlApi; // eslint-disable-line @typescript-eslint/no-explicit-any -- the browser module, untyped
        api.setApiKey(key);
        return new Promise<{ next: unknown[]; error?: { code: string; message: string; words: string }; complete: boolean }>((resolve) => {
          const seen: unknown[] = [];
          const timer = setTimeout(() => resolve({ next: seen, complete: false }), 20_000);
          api.subscribe(query, variables, {
            next: (data: unknown) => seen.push(data),
            error: (err: { code: string; message: string }) => {
              clearTimeout(timer);
              resolve({ next: seen, error: { code: err.code, message: err.message, words: api.describeError(err) as string }, complete: false });
            },
            complete: () => {
              clearTimeout(timer);
              resolve({ next: seen, complete: true });
            },
          });
        });
      },
      { query, variables, key },
    );
  }

  it('gql returns data, and throws ApiError with the code, message and path of a GraphQL error', async () => {
    const ok = await gqlInPage('query($s: Int) { samples(count: 2, seed: $s) { id } }', { s: 4 }, '');
    expect((ok.data as { samples: unknown[] }).samples).toHaveLength(2);

    const bad = await gqlInPage('{ model(id: "nope@1") { id } }', {}, '');
    expect(bad.error).toMatchObject({ name: 'ApiError', code: 'NOT_FOUND', path: ['model'] });
    expect(bad.error!.words).toBe(bad.error!.message);

    const refused = await gqlInPage('{ runs(first: 1) { totalCount } }', {}, '');
    expect(refused.error!.code).toBe('UNAUTHENTICATED');
    expect(refused.error!.words).toMatch(
      /^This needs an API key with the `read` scope\. No API key is set.*`npm run keys -- create --name me --scopes read,sample,train` and paste it under Settings\./,
    );

    // A key is sent as a bearer token: the read key may read, and may not sample (FORBIDDEN, words say so).
    const read = await gqlInPage('{ runs(first: 1) { totalCount } }', {}, readKey);
    expect((read.data as { runs: { totalCount: number } }).runs.totalCount).toBeGreaterThan(0);
    const forbidden = await gqlInPage('{ samples(count: 1) { id } }', {}, readKey);
    expect(forbidden.error!.code).toBe('FORBIDDEN');
    expect(forbidden.error!.words).toContain('This needs an API key with the `sample` scope. Your key does not have it.');

    // An unknown key: the server answers 401 before GraphQL runs.
    const unknown = await gqlInPage('{ samples(count: 1) { id } }', {}, 'gq_not_a_real_key');
    expect(unknown.error!.code).toBe('UNAUTHENTICATED');
    expect(unknown.error!.words).toMatch(/^The server refused the API key: .*Paste a valid key under Settings, or clear it/);
  });

  it('subscribe speaks graphql-transport-ws: errors of the operation, and a refused key at connection_init', async () => {
    const query = 'subscription($id: ID!) { trainingProgress(jobId: $id) { type state } }';
    const unknownJob = await subscribeInPage(query, { id: 'no-such-job' }, readKey);
    expect(unknownJob.next).toEqual([]);
    expect(unknownJob.error?.code).toBe('NOT_FOUND');

    const anonymous = await subscribeInPage(query, { id: 'no-such-job' }, '');
    expect(anonymous.error?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.error?.words).toContain('This needs an API key with the `read` scope.');

    const badKey = await subscribeInPage(query, { id: 'no-such-job' }, 'gq_not_a_real_key');
    expect(badKey.error?.code).toBe('UNAUTHENTICATED');
    expect(badKey.error?.words).toMatch(/^The server refused the API key/);

    // A query over the socket streams one result and completes.
    const single = await subscribeInPage('{ serverInfo { backend } }', {}, '');
    expect(single).toEqual({ next: [{ serverInfo: { backend: 'wasm' } }], complete: true });
  });

  it('subscribes on one shared socket, and reconnects with a new key at once, the subscriptions going on', async () => {
    const keys = new ApiKeyService(studio.server.ganql.database.prisma);
    const trainKey = (await keys.create('trainer', 'read,train')).token;
    const otherKey = (await keys.create('other reader', 'read')).token;
    const gqlAs = async (query: string, variables: Record<string, unknown>) =>
      (await studio.server.http.post('/graphql').set('authorization', `Bearer ${trainKey}`).send({ query, variables })).body as {
        data: Record<string, { id: string; state: string }>;
      };
    const started = await gqlAs('mutation($input: StartTrainingInput!) { startTraining(input: $input) { id } }', {
      input: { architecture: 'MLP', epochs: 1000, batchSize: 32, limit: 64, seed: 2, name: 'api-ws' },
    });
    const jobId = started.data.startTraining.id;

    // A fresh page whose WebSockets are recorded: what each sent, and how each closed.
    const { page: watched } = await studio.newPage();
    await watched.addInitScript(() => {
      const records: { sent: string[]; closed: number | null }[] = [];
      const Native = window.WebSocket;
      class Recorded extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          const record = { sent: [] as string[], closed: null as number | null };
          records.push(record);
          const send = this.send.bind(this);
          this.send = (data) => {
            record.sent.push(typeof data === 'string' ? data : `[binary ${data.constructor.name}]`);
            send(data);
          };
          this.addEventListener('close', (event) => (record.closed = event.code));
        }
      }
      Object.assign(window, { WebSocket: Recorded, recordedSockets: records });
    });
    await studio.open(watched, 'gallery');
    await watched.addScriptTag({
      type: 'module',
      content: "import * as api from '/studio/lib/api.js'; import { subscribe } from '/studio/lib/subscriptions.js'; window.ganqlApi = { ...api, subscribe };",
    });
    await watched.waitForFunction(() => 'ganqlApi' in window);
    const sockets = () =>
      watched.evaluate(() =>
        (window as unknown as { recordedSockets: { sent: string[]; closed: number | null }[] }).recordedSockets.map((s) => ({
          init: s.sent.map((m) => JSON.parse(m) as { type: string; payload?: { authorization?: string } }).find((m) => m.type === 'connection_init')?.payload,
          closed: s.closed,
        })),
      );
    const counts = () => watched.evaluate(() => (window as unknown as { streams: number[] }).streams);

    await watched.evaluate(
      ({ jobId, key }) => {
        const api = (window as unknown as { ganqlApi: any }).ganqlApi; // eslint-disable-line @typescript-eslint/no-explicit-any -- the browser module, untyped
        api.setApiKey(key);
        const streams = [0, 0];
        const stops = streams.map((_, i) =>
          api.subscribe('subscription($id: ID!) { trainingProgress(jobId: $id) { type } }', { id: jobId }, { next: () => (streams[i] += 1) }),
        );
        Object.assign(window, { streams, stopStreams: () => stops.forEach((stop: () => void) => stop()) });
      },
      { jobId, key: readKey },
    );
    await expect.poll(async () => Math.min(...(await counts())), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await sockets()).toEqual([{ init: { authorization: `Bearer ${readKey}` }, closed: null }]);

    await watched.evaluate((key) => (window as unknown as { ganqlApi: { setApiKey(k: string): void } }).ganqlApi.setApiKey(key), otherKey);
    await expect.poll(async () => (await sockets()).length, { timeout: 10_000 }).toBe(2);
    const before = await counts();
    await expect.poll(async () => (await counts()).every((n, i) => n > before[i]), { timeout: 30_000 }).toBe(true);
    expect(await sockets()).toEqual([
      { init: { authorization: `Bearer ${readKey}` }, closed: 4205 },
      { init: { authorization: `Bearer ${otherKey}` }, closed: null },
    ]);

    // The last subscription gone, the socket closes.
    await watched.evaluate(() => (window as unknown as { stopStreams(): void }).stopStreams());
    await expect.poll(async () => (await sockets())[1].closed, { timeout: 10_000 }).toBe(1000);
    expect((await gqlAs('mutation($id: ID!) { cancelTraining(id: $id) { id state } }', { id: jobId })).data.cancelTraining.state).toBe('CANCELLED');
  });

  it('describes an unreachable server in words', async () => {
    const words = await page.evaluate(async () => {
      const api = (window as unknown as { ganqlApi: any }).ganqlApi; // eslint-disable-line @typescript-eslint/no-explicit-any -- the browser module, untyped
      return api.describeError(new api.ApiError('Cannot reach the ganql server', 'NETWORK')) as string;
    });
    expect(words).toMatch(/^Cannot reach the ganql server\. Is it running\?/);
  });
});
