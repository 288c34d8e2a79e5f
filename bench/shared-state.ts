/**
 * What the state replicas share costs per request: an API key's rate limit counted in PostgreSQL
 * (DatabaseRateLimiter, one statement per keyed request) beside the in-memory limiter, and the poll
 * that tells a replica about aliases and archived versions (ModelStateStore.read, once every
 * GANQL_MODEL_STATE_POLL_MS) on SQLite and PostgreSQL. For scale, the run INSERT every request
 * already makes. Wall time per call (ganql's process and the database together) and this process's
 * CPU per call; the database server's own CPU is not counted.
 *
 *   npx tsx bench/shared-state.ts [--postgres postgresql://postgres@127.0.0.1:5432/test] [--calls 2000] [--concurrency 8]
 *
 * --postgres names a server (default GANQL_TEST_POSTGRES_URL) on which a scratch database is created
 * and dropped; without one only the SQLite and in-memory figures are printed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseRateLimiter } from '../src/auth/database-rate-limiter';
import { RateLimiter } from '../src/auth/rate-limiter';
import { openDatabase, type Database } from '../src/db/database';
import { ModelStateStore } from '../src/models/model-state.store';
import { createTempDatabase } from '../test/helpers/postgres';
import { numberArg, stringArg } from './lib/cli-args';

const calls = numberArg('calls', 2000, 10, 1_000_000);
const concurrency = numberArg('concurrency', 8, 1, 256);
const server = stringArg('postgres', process.env.GANQL_TEST_POSTGRES_URL ?? '');

interface Cost {
  wallUs: number;
  cpuUs: number;
}

/** Runs `op` `n` times, `parallel` at a time; microseconds of wall time and of this process's CPU per call. */
async function measure(n: number, parallel: number, op: (i: number) => unknown): Promise<Cost> {
  for (let i = 0; i < Math.min(50, n); i++) await op(-1 - i);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await op(next++);
    }),
  );
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wallUs: (wall * 1000) / n, cpuUs: (used.user + used.system) / n };
}

const show = (c: Cost) => `${c.wallUs.toFixed(1)} us wall, ${c.cpuUs.toFixed(1)} us CPU per call`;

/** The SAMPLE run row every request writes first (RunStore.insertRunning). */
function insertRun(db: Database): Promise<number> {
  return db.execute('INSERT INTO "Run" ("id", "kind", "status", "parameters", "backend", "progress", "owner", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    randomUUID(),
    'SAMPLE',
    'SUCCEEDED',
    '{}',
    'wasm',
    null,
    null,
    new Date(),
  ]);
}

/** A database with a few model versions, two archived, and aliases: what the poll reads. */
async function seedState(db: Database): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const id = `bench-${i}@1`;
    await db.prisma.model.create({
      data: {
        id,
        name: `bench-${i}`,
        version: '1',
        architecture: 'dcgan',
        dataset: 'mnist',
        latentSize: 100,
        imageHeight: 28,
        imageWidth: 28,
        imageChannels: 1,
        path: `bench-${i}`,
        manifest: '{}',
        ...(i >= 6 ? { archivedAt: new Date(), archivedBy: 'bench' } : {}),
      },
    });
  }
  const store = new ModelStateStore(db);
  for (const [alias, i] of [
    ['default', 0],
    ['prod', 1],
    ['staging', 2],
  ] as const)
    await store.setAlias(alias, `bench-${i}@1`, 'bench', new Date());
}

async function onDatabase(label: string, db: Database): Promise<void> {
  await db.migrate();
  await seedState(db);
  const store = new ModelStateStore(db);
  const poll = await measure(calls, 1, () => store.read());
  console.log(`${label}: model state poll (aliases and archived ids)  ${show(poll)}; at one poll a second: ${(poll.cpuUs / 10_000).toFixed(3)}% of a core`);
  console.log(`${label}: run INSERT (every request makes one)         ${show(await measure(calls, 1, () => insertRun(db)))}`);
  if (db.provider === 'postgresql') {
    const limiter = new DatabaseRateLimiter(db);
    const open = { ratePerSecond: 1e9, burst: 1e9 };
    console.log(`${label}: rate limit take, one key, 1 at a time       ${show(await measure(calls, 1, () => limiter.take('one-key', open)))}`);
    console.log(
      `${label}: rate limit take, one key, ${concurrency} at a time       ${show(await measure(calls, concurrency, () => limiter.take('one-key', open)))} (row lock contention)`,
    );
    console.log(
      `${label}: rate limit take, ${concurrency} keys, ${concurrency} at a time      ${show(await measure(calls, concurrency, (i) => limiter.take(`key-${Math.abs(i) % concurrency}`, open)))}`,
    );
    const refusing = { ratePerSecond: 0.001, burst: 1 };
    await limiter.take('spent', refusing);
    console.log(`${label}: rate limit take, refused                    ${show(await measure(calls, 1, () => limiter.take('spent', refusing)))}`);
  }
}

async function main(): Promise<void> {
  const memory = new RateLimiter();
  const limit = { ratePerSecond: 1e9, burst: 1e9 };
  console.log(`in memory: rate limit take                           ${show(await measure(calls * 50, 1, () => memory.take('one-key', limit)))}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-bench-state-'));
  const sqlite = openDatabase(`file:${path.join(dir, 'bench.db')}`);
  try {
    await onDatabase('SQLite', sqlite);
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  if (server === '') {
    console.log('PostgreSQL: skipped (no --postgres and no GANQL_TEST_POSTGRES_URL)');
    return;
  }
  const temp = await createTempDatabase(server);
  const pg = openDatabase(temp.url);
  try {
    await onDatabase('PostgreSQL', pg);
  } finally {
    await pg.close();
    await temp.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
