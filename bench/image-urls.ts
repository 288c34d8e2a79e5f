/**
 * Image URLs against base64 in the JSON, from one run: a real ganql (in this process, temp SQLite
 * file, 127.0.0.1, an ephemeral port), a grid of --count samples asked for as `image { dataUrl }` and
 * as `image { url }`, then the grid's URLs fetched the way a browser does (6 at a time): right after
 * the query (served from memory), again with If-None-Match (304s), and from a second server that
 * keeps no PNGs in memory (GANQL_IMAGE_CACHE_BYTES=0, every image regenerated through the pool).
 *
 *   npx tsx bench/image-urls.ts [--models models] [--count 256] [--repeats 5]
 *
 * Prints response sizes and median times of each, and one image's response headers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { createGanql } from '../src/server/app';
import { numberArg, stringArg } from './lib/cli-args';

/** Connections a browser opens to one host over HTTP/1.1. */
const BROWSER_CONNECTIONS = 6;

interface Server {
  base: string;
  stop(): Promise<void>;
}

async function startServer(modelsDir: string, env: Record<string, string>): Promise<Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-bench-'));
  const config = loadConfig(
    { GANQL_BACKEND: 'wasm', GANQL_LOG_LEVEL: 'error', DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`, ...env },
    { modelsDir, host: '127.0.0.1', port: 0 },
  );
  const ganql = await createGanql(config, createLogger(config.logLevel));
  const address = await ganql.listen();
  return {
    base: `http://127.0.0.1:${address.port}`,
    async stop() {
      await ganql.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function query<T>(base: string, text: string): Promise<{ data: T; bytes: number }> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text }) });
  const body = await res.text();
  const parsed = JSON.parse(body) as { data?: T; errors?: unknown };
  if (parsed.data === undefined || parsed.errors !== undefined) throw new Error(`query failed: ${body.slice(0, 300)}`);
  return { data: parsed.data, bytes: Buffer.byteLength(body) };
}

/** Fetches every URL, BROWSER_CONNECTIONS at a time; returns the bytes received and the statuses seen. */
async function fetchAll(base: string, urls: readonly string[], etags?: ReadonlyMap<string, string>): Promise<{ bytes: number; statuses: Set<number> }> {
  let next = 0;
  let bytes = 0;
  const statuses = new Set<number>();
  const lane = async (): Promise<void> => {
    for (let i = next++; i < urls.length; i = next++) {
      const etag = etags?.get(urls[i]);
      const res = await fetch(`${base}${urls[i]}`, { headers: etag === undefined ? {} : { 'if-none-match': etag } });
      bytes += (await res.arrayBuffer()).byteLength;
      statuses.add(res.status);
    }
  };
  await Promise.all(Array.from({ length: BROWSER_CONNECTIONS }, lane));
  return { bytes, statuses };
}

async function medianMs(repeats: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const modelsDir = path.resolve(stringArg('models', 'models'));
  const count = numberArg('count', 256, 1, 256);
  const repeats = numberArg('repeats', 5, 1, 100);
  const cached = await startServer(modelsDir, {});
  const uncached = await startServer(modelsDir, { GANQL_IMAGE_CACHE_BYTES: '0' });
  try {
    const { models } = (await query<{ models: { id: string; architecture: string }[] }>(cached.base, '{ models { id architecture } }')).data;
    const model = (models.find((m) => m.architecture === 'dcgan') ?? models[0]).id;
    console.log(`model ${model}, ${count} samples, median of ${repeats} runs, ${BROWSER_CONNECTIONS} connections for the image fetches`);
    const inline = (seed: number) => `{ samples(modelId: "${model}", count: ${count}, seed: ${seed}) { id image { dataUrl } } }`;
    const byUrl = (seed: number) => `{ samples(modelId: "${model}", count: ${count}, seed: ${seed}) { id image { url } } }`;
    const inlineBytes = (await query(cached.base, inline(1))).bytes;
    const urlBytes = (await query(cached.base, byUrl(1))).bytes;
    let seed = 100;
    const inlineMs = await medianMs(repeats, () => query(cached.base, inline(seed++)));
    const urlMs = await medianMs(repeats, () => query(cached.base, byUrl(seed++)));
    console.log(`samples as dataUrl: ${kib(inlineBytes)} of JSON, ${inlineMs.toFixed(1)} ms`);
    console.log(`samples as url:     ${kib(urlBytes)} of JSON, ${urlMs.toFixed(1)} ms (${(inlineBytes / urlBytes).toFixed(1)}x smaller)`);

    type Grid = { samples: { image: { url: string } }[] };
    // A fresh grid: each URL is fetched right after the query that made it, as a page does.
    const urls = (await query<Grid>(cached.base, byUrl(seed++))).data.samples.map((s) => s.image.url);
    let pngBytes = 0;
    const fromMemoryMs = await medianMs(repeats, async () => {
      const got = await fetchAll(cached.base, urls);
      if (!(got.statuses.size === 1 && got.statuses.has(200))) throw new Error(`expected only 200s, got ${[...got.statuses].join(', ')}`);
      pngBytes = got.bytes;
    });
    const etags = new Map<string, string>();
    for (const url of urls) etags.set(url, (await fetch(`${cached.base}${url}`, { method: 'HEAD' })).headers.get('etag') ?? '');
    const revalidateMs = await medianMs(repeats, async () => {
      const got = await fetchAll(cached.base, urls, etags);
      if (!(got.statuses.size === 1 && got.statuses.has(304))) throw new Error(`expected only 304s, got ${[...got.statuses].join(', ')}`);
    });
    const coldUrls = (await query<Grid>(uncached.base, byUrl(seed++))).data.samples.map((s) => s.image.url);
    const regenerateMs = await medianMs(repeats, () => fetchAll(uncached.base, coldUrls));
    console.log(`${count} image URLs from memory:  ${fromMemoryMs.toFixed(1)} ms (${kib(pngBytes)} of PNG)`);
    console.log(`${count} revalidations (304):     ${revalidateMs.toFixed(1)} ms`);
    console.log(`${count} image URLs regenerated:  ${regenerateMs.toFixed(1)} ms (GANQL_IMAGE_CACHE_BYTES=0)`);

    const head = await fetch(`${cached.base}${urls[0]}`);
    console.log(`GET ${urls[0]} -> ${head.status}`);
    for (const name of ['content-type', 'content-length', 'etag', 'cache-control']) console.log(`  ${name}: ${head.headers.get(name)}`);
  } finally {
    await cached.stop();
    await uncached.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
