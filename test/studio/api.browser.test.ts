import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { skipBrowserTests, startStudio, type Studio } from './browser';

// The studio's API module (lib/api.js) in the browser, against the real server's HTTP and graphql-ws endpoints.
describe.skipIf(skipBrowserTests('api module'))('the studio API client in a browser', () => {
  let studio: Studio;
  let page: Page;
  let readKey: string;

  beforeAll(async () => {
    // The real default policy: anonymous localhost clients may only sample.
    studio = await startStudio({ env: { GANQL_ANONYMOUS_SCOPES: 'sample' } });
    readKey = (await new ApiKeyService(studio.server.ganql.database.prisma).create('reader', 'read')).token;
    ({ page } = await studio.newPage());
    await studio.open(page, 'gallery');
    // The module as the pages load it (a page.evaluate'd import() would be rewritten by vitest's transform).
    await page.addScriptTag({ type: 'module', content: "import * as api from '/studio/lib/api.js'; window.ganqlApi = api;" });
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
    expect(refused.error!.words).toMatch(/^This needs an API key with the `read` scope\. No API key is set.*`npm run keys -- create --name me --scopes read,sample,train` and paste it under Settings\./);

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

  it('describes an unreachable server in words', async () => {
    const words = await page.evaluate(async () => {
      const api = (window as unknown as { ganqlApi: any }).ganqlApi; // eslint-disable-line @typescript-eslint/no-explicit-any -- the browser module, untyped
      return api.describeError(new api.ApiError('Cannot reach the ganql server', 'NETWORK')) as string;
    });
    expect(words).toMatch(/^Cannot reach the ganql server\. Is it running\?/);
  });
});
