/**
 * What one group commit of `samples(count: 1)` requests costs SQLite as the tables grow, with the
 * sample ids ganql uses (UUIDv7: in creation order) against random UUIDs (v4), from one run. Each
 * commit writes what a pool batch of --group requests writes: per request one Run row and one Sample
 * row, with the statements, schema (prisma/migrations) and settings (WAL, synchronous=NORMAL) the
 * server uses. Prints the mean milliseconds per commit over each stretch of table size, and the
 * ratio. The two orders alternate --rounds times, each in a new database.
 *
 *   npx tsx bench/group-commit.ts [--group 32] [--commits 3000] [--stretches 3] [--rounds 2]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createUuidV7Generator } from '../src/runs/run-id';
import { numberArg } from './lib/cli-args';

const MIGRATIONS = path.resolve(__dirname, '..', 'prisma', 'migrations');
const MODEL_ID = 'dcgan-mnist@bench';

/** A new database file with ganql's schema and one model, in a temporary folder. */
function openDatabase(): { db: BetterSqlite3.Database; dispose: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-commit-'));
  const db = new BetterSqlite3(path.join(dir, 'bench.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const migration of readdirSync(MIGRATIONS, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()) {
    db.exec(readFileSync(path.join(MIGRATIONS, migration, 'migration.sql'), 'utf8'));
  }
  db.prepare(
    'INSERT INTO "Model" ("id", "name", "version", "architecture", "dataset", "latentSize", "imageHeight", "imageWidth", "imageChannels", "path", "manifest") ' +
      "VALUES (?, 'dcgan-mnist', 'bench', 'dcgan', 'mnist', 100, 28, 28, 1, 'models/dcgan-mnist', '{}')",
  ).run(MODEL_ID);
  return {
    db,
    dispose: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Mean ms per commit over each of `stretches` equal stretches of `commits` commits of `group` requests. */
function commitTimes(sampleId: () => string, group: number, commits: number, stretches: number): number[] {
  const { db, dispose } = openDatabase();
  try {
    const runId = createUuidV7Generator();
    const insertRun = db.prepare(
      'INSERT INTO "Run" ("id", "kind", "status", "parameters", "result", "modelId", "backend", "errorCode", "errorMessage", "durationMs", "owner", "createdAt", "finishedAt") ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertSample = db.prepare('INSERT INTO "Sample" ("id", "modelId", "runId", "index", "latent", "backend", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?)');
    const latent = Buffer.alloc(400, 7);
    const commit = db.transaction(() => {
      for (let i = 0; i < group; i++) {
        const id = runId();
        const now = Date.now();
        insertRun.run(id, 'SAMPLE', 'SUCCEEDED', '{"count":1}', '{"sampleIds":1}', MODEL_ID, 'onnxruntime', null, null, 3.2, 'bench', now, now);
        insertSample.run(sampleId(), MODEL_ID, id, 0, latent, 'onnxruntime', now);
      }
    });
    const per = Math.floor(commits / stretches);
    const means: number[] = [];
    for (let s = 0; s < stretches; s++) {
      const start = performance.now();
      for (let c = 0; c < per; c++) commit();
      means.push((performance.now() - start) / per);
    }
    return means;
  } finally {
    dispose();
  }
}

function main(): void {
  const group = numberArg('group', 32, 1, 1024);
  const commits = numberArg('commits', 3000, 10, 1_000_000);
  const stretches = numberArg('stretches', 3, 1, 100);
  const rounds = numberArg('rounds', 2, 1, 20);
  const orders: [string, () => string][] = [
    ['UUIDv7 (ganql)', createUuidV7Generator()],
    ['random UUIDv4', randomUUID],
  ];
  const best = orders.map(() => Array.from({ length: stretches }, () => Infinity));
  for (let round = 0; round < rounds; round++) {
    orders.forEach(([, sampleId], i) => {
      commitTimes(sampleId, group, commits, stretches).forEach((ms, s) => (best[i][s] = Math.min(best[i][s], ms)));
    });
  }
  const per = Math.floor(commits / stretches);
  console.log(
    `${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; commits of ${group} requests (a Run and a Sample row each), best of ${rounds} rounds`,
  );
  console.log(`${'samples in the table'.padEnd(24)}${orders.map(([name]) => name.padStart(18)).join('')}  v4 / v7`);
  for (let s = 0; s < stretches; s++) {
    const rows = `${(s * per * group).toLocaleString('en-US')}-${((s + 1) * per * group).toLocaleString('en-US')}`;
    console.log(`${rows.padEnd(24)}${best.map((b) => `${b[s].toFixed(3)} ms`.padStart(18)).join('')}  ${(best[1][s] / best[0][s]).toFixed(2)}x`);
  }
}

main();
