import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { listMigrations } from '../../src/db/migrate';
import { createTempDatabase, postgresUrl } from '../helpers/postgres';

const ROOT = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite migrations', () => {
  it('applies once, records them as Prisma does, and `prisma migrate status` agrees', async () => {
    const file = path.join(dir, 'a.db');
    const db = openDatabase(`file:${file}`);
    const first = await db.migrate();
    expect(first.applied).toEqual(listMigrations(path.join(ROOT, 'prisma/migrations')).map((m) => m.name));
    expect(first.applied.length).toBeGreaterThan(0);
    expect(await db.migrate()).toEqual({ applied: [], alreadyApplied: first.applied });
    await db.close();

    const raw = new BetterSqlite3(file);
    const rows = raw.prepare('SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations').all() as Record<string, unknown>[];
    raw.close();
    const expected = listMigrations(path.join(ROOT, 'prisma/migrations'));
    expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count])).toEqual(expected.map((m) => [m.name, m.checksum, 1]));
    expect(String(rows[0].finished_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);

    const status = execFileSync(path.join(ROOT, 'node_modules/.bin/prisma'), ['migrate', 'status'], {
      cwd: ROOT,
      env: { ...process.env, GANQL_SQLITE_URL: `file:${file}`, PRISMA_PROVIDER: 'sqlite' },
      encoding: 'utf8',
    });
    expect(status).toContain('Database schema is up to date!');
  });

  it('refuses to start over a migration that failed half-way', async () => {
    const file = path.join(dir, 'b.db');
    const db = openDatabase(`file:${file}`);
    await db.migrate();
    const raw = new BetterSqlite3(file);
    raw.prepare("INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ('x', 'c', '29990101000000_broken', 'now')").run();
    raw.close();
    await expect(db.migrate()).rejects.toThrow('migration 29990101000000_broken failed earlier and was not rolled back');
    await db.close();
  });
});

const pgServer = postgresUrl();

describe.skipIf(!pgServer)('PostgreSQL migrations (GANQL_TEST_POSTGRES_URL)', () => {
  it('applies through the driver, once, even when two processes start together', async () => {
    const temp = await createTempDatabase(pgServer!);
    try {
      const a = openDatabase(temp.url);
      const b = openDatabase(temp.url);
      const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
      const names = listMigrations(path.join(ROOT, 'prisma/postgresql/migrations')).map((m) => m.name);
      expect([...ra.applied, ...rb.applied]).toEqual(names);
      expect(await a.migrate()).toEqual({ applied: [], alreadyApplied: names });

      const client = new Client({ connectionString: temp.url });
      await client.connect();
      const rows = (await client.query('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations')).rows;
      const tables = (await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows;
      await client.end();
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      expect(rows.every((r) => r.finished_at instanceof Date && r.rolled_back_at === null)).toBe(true);
      expect(tables.map((t) => t.table_name)).toEqual([
        'ApiKey',
        'Evaluation',
        'Model',
        'ModelAlias',
        'RateLimit',
        'ReferenceStats',
        'Replica',
        'Run',
        'Sample',
        'TrainingEpoch',
        'TrainingJob',
        '_prisma_migrations',
      ]);

      await a.prisma.run.create({ data: { id: 'r1', kind: 'SAMPLE', status: 'RUNNING', parameters: '{}' } });
      expect(await b.prisma.run.findUnique({ where: { id: 'r1' } })).toMatchObject({ kind: 'SAMPLE', status: 'RUNNING' });
      expect(await a.ping()).toBe(true);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await temp.drop();
    }
  });
});
