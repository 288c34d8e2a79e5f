import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Config } from '../../src/config/config';
import { pngBytes } from '../helpers/data-url';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/server';

/** The browser the studio tests drive: Debian's chromium, or GANQL_CHROMIUM. */
export const CHROMIUM = process.env.GANQL_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the studio tests run: under CI (.ci/run installs Debian's chromium) a missing browser fails
 * the run; elsewhere the tests skip, saying so. Use as `describe.skipIf(skipBrowserTests('gallery'))`.
 */
export function skipBrowserTests(what: string): boolean {
  const have = existsSync(CHROMIUM);
  if (!have && !process.env.CI) console.warn(`studio ${what} browser test skipped: ${CHROMIUM} not found (apt-get install chromium, or set GANQL_CHROMIUM)`);
  return !have && !process.env.CI;
}

/** Where screenshots go: GANQL_STUDIO_SCREENSHOTS (e.g. docs/screenshots) when set, else a temporary folder. */
export function screenshotDir(): string {
  const wanted = process.env.GANQL_STUDIO_SCREENSHOTS;
  if (!wanted) return (tempShots ??= mkdtempSync(path.join(os.tmpdir(), 'ganql-studio-shots-')));
  const dir = path.resolve(wanted);
  mkdirSync(dir, { recursive: true });
  return dir;
}
// One temporary folder per test file (process), made when the first studio starts.
let tempShots: string | undefined;

export interface StudioOptions {
  /** Config overrides for startTestServer. */
  overrides?: Partial<Config>;
  /** Environment for loadConfig, e.g. { GANQL_ANONYMOUS_SCOPES: 'sample' }. */
  env?: NodeJS.ProcessEnv;
  server?: TestServerOptions;
}

export interface StudioPageOptions {
  /** Viewport width in CSS pixels (default 1280). */
  width?: number;
  /** Viewport height (default 800). */
  height?: number;
}

export interface Studio {
  server: TestServer;
  browser: Browser;
  /** e.g. http://127.0.0.1:40123 */
  base: string;
  /** Folder the screenshots go to. */
  shots: string;
  /**
   * A fresh browser context (own localStorage) and page, with its console errors, uncaught page errors
   * and any request to another host recorded in `problems` (a test asserts it stays empty).
   */
  newPage(options?: StudioPageOptions): Promise<{ page: Page; context: BrowserContext; problems: string[] }>;
  /** Opens /studio/#/<route> and waits for the page's <h1> to be focused by the router. */
  open(page: Page, route: string): Promise<void>;
  /** Saves a screenshot of the viewport as <shots>/<name>.png and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  stop(): Promise<void>;
}

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** A real ganql listening on 127.0.0.1 (random port) and a headless chromium to drive the studio on it. */
export async function startStudio(options: StudioOptions = {}): Promise<Studio> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set GANQL_CHROMIUM`);
  const server = await startTestServer({ host: '127.0.0.1', port: 0, ...options.overrides }, options.env, options.server);
  let browser: Browser | undefined;
  try {
    const address = await server.ganql.listen();
    const base = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    const shots = screenshotDir();
    const contexts: BrowserContext[] = [];
    const opened = browser;
    return {
      server,
      browser: opened,
      base,
      shots,
      async newPage(pageOptions = {}) {
        const context = await opened.newContext({ viewport: { width: pageOptions.width ?? 1280, height: pageOptions.height ?? 800 } });
        contexts.push(context);
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (message) => {
          // The browser logs failed requests (e.g. a refused 401) as console errors; those are expected where a test provokes them.
          if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
        });
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        page.on('request', (request) => {
          const url = request.url();
          if (!url.startsWith(base) && !url.startsWith(base.replace(/^http/, 'ws')) && !url.startsWith('data:') && !url.startsWith('blob:'))
            problems.push(`external request: ${url}`);
        });
        return { page, context, problems };
      },
      async open(page, route) {
        await page.goto(`${base}/studio/#/${route}`);
        await page.waitForFunction(() => document.activeElement?.tagName === 'H1', null, { timeout: 30_000 });
      },
      async screenshot(page, name) {
        const file = path.join(shots, `${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      async stop() {
        for (const context of contexts) await context.close().catch(() => undefined);
        await opened.close();
        await server.stop();
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server.stop();
    throw error;
  }
}

/**
 * The PNG bytes each <img> matched by `selector` shows, in order: a data: src decoded, a src of the
 * server (Image.url) fetched from it without a key. Compare with pngBytes() of the API's dataUrls.
 */
export async function shownPngs(studio: Studio, page: Page, selector: string): Promise<Buffer[]> {
  const srcs = await page.$$eval(selector, (images) => images.map((img) => img.getAttribute('src') ?? ''));
  return Promise.all(
    srcs.map(async (src) => {
      if (src.startsWith('data:')) return pngBytes(src);
      if (!src.startsWith('/images/')) throw new Error(`shownPngs: expected a data URL or /images/<id>.png, got ${JSON.stringify(src)}`);
      const res = await studio.server.http
        .get(src)
        .buffer(true)
        .parse((stream, done) => {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => done(null, Buffer.concat(chunks)));
        });
      if (res.status !== 200) throw new Error(`shownPngs: GET ${src} answered ${res.status}`);
      return res.body as Buffer;
    }),
  );
}

/** The naturalWidth of every <img> matched by `selector`, once each has loaded. */
export async function naturalWidths(page: Page, selector: string): Promise<number[]> {
  return page.$$eval(selector, async (images) => {
    await Promise.all((images as HTMLImageElement[]).map((img) => (img.complete ? Promise.resolve() : img.decode().catch(() => undefined))));
    return (images as HTMLImageElement[]).map((img) => img.naturalWidth);
  });
}

/** True when the page is wider than its viewport (a horizontal scroll bar). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
