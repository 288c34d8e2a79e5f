import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

const CHROMIUM = process.env.GANQL_CHROMIUM ?? '/usr/bin/chromium';
// Under CI (.ci/run installs Debian's chromium) a missing browser fails the run; elsewhere it skips, saying so.
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && !process.env.CI) console.warn(`explorer browser test skipped: ${CHROMIUM} not found (apt-get install chromium, or set GANQL_CHROMIUM)`);

describe.skipIf(!haveBrowser && !process.env.CI)('the GraphQL explorer in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let base: string;
  const externalRequests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set GANQL_CHROMIUM`);
    server = await startTestServer({ host: '127.0.0.1', port: 0 });
    const address: AddressInfo = await server.ganql.listen();
    base = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads from the server alone and runs a query through the UI', async () => {
    const page = await browser.newPage();
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) externalRequests.push(request.url());
    });
    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${base}/playground`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });

    // Type a query as a person would (GraphiQL tracks the operation name from typing), then run it.
    await page.locator('.graphiql-query-editor .CodeMirror').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('query ExplorerCheck { serverInfo { backend } samples(count: 2, seed: 7) { image { width height } } }');
    await page.waitForTimeout(300);
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('"width": 28'), null, { timeout: 30_000 });
    const text = (await page.locator('.graphiql-response').textContent()) ?? '';
    expect(text).toContain('"backend": "wasm"');
    expect(text.match(/"height": 28/g)).toHaveLength(2);
    expect(externalRequests).toEqual([]);

    // The query went through the real server and was recorded.
    const runs = await server.gql<{ runs: { edges: { node: { kind: string; parameters: { count: number } } }[] } }>(
      '{ runs(first: 1, filter: { kind: SAMPLE }) { edges { node { kind parameters } } } }',
    );
    expect(runs.data!.runs.edges[0].node.parameters).toMatchObject({ count: 2, seed: 7 });
  });

  it('serves its assets from node_modules and 404s anything else', async () => {
    const js = await server.http.get('/playground/assets/graphiql.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect((await server.http.get('/playground/assets/..%2Fpackage.json')).status).toBe(404);
    expect((await server.http.get('/playground/assets/secrets.js')).status).toBe(404);
  });
});
