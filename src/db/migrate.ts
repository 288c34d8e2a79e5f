import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Applies Prisma migration folders with `prisma migrate deploy` semantics, recording each in
 * `_prisma_migrations` in Prisma's own format (so `prisma migrate status` agrees). Needed because
 * Prisma's wasm schema engine cannot deploy to PostgreSQL here, and so that start-up needs no CLI.
 */
export interface MigrationTarget {
  provider: 'sqlite' | 'postgresql';
  /** Runs statements that return nothing. */
  execute(sql: string, params?: unknown[]): Promise<void>;
  /** Runs a query and returns its rows. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `work` in one transaction (and, on PostgreSQL, under a lock that serialises replicas). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

const CREATE_TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`,
};

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** The migration folders under `dir`, in the order Prisma applies them (lexicographic). */
export function listMigrations(dir: string): { name: string; sql: string; checksum: string }[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder ${dir} does not exist`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

// Prisma's placeholders differ per provider: `?` for SQLite, `$n` for PostgreSQL.
function placeholders(provider: MigrationTarget['provider'], n: number): string[] {
  return Array.from({ length: n }, (_, i) => (provider === 'sqlite' ? '?' : `$${i + 1}`));
}

// The timestamp format Prisma's schema engine writes ("2026-11-27T04:05:54.225+00:00").
function now(): string {
  return new Date().toISOString().replace('Z', '+00:00');
}

export async function migrate(target: MigrationTarget, dir: string, log: (message: string) => void = () => {}): Promise<MigrationResult> {
  const migrations = listMigrations(dir);
  return target.exclusive(async () => {
    await target.execute(CREATE_TABLE[target.provider]);
    const rows = await target.query<MigrationRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier and was not rolled back; resolve it (prisma migrate resolve) before starting`,
      );
    }
    const done = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const previous = done.get(migration.name);
      if (previous) {
        if (previous.checksum !== migration.checksum) log(`migration ${migration.name} was modified after it was applied`);
        result.alreadyApplied.push(migration.name);
        continue;
      }
      const [p1, p2, p3, p4] = placeholders(target.provider, 4);
      const id = randomUUID();
      await target.execute(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES (${p1}, ${p2}, ${p3}, ${p4}, 0)`,
        [id, migration.checksum, migration.name, now()],
      );
      await target.execute(migration.sql);
      const [q1, q2] = placeholders(target.provider, 2);
      await target.execute(`UPDATE "_prisma_migrations" SET finished_at = ${q1}, applied_steps_count = 1 WHERE id = ${q2}`, [now(), id]);
      log(`applied migration ${migration.name}`);
      result.applied.push(migration.name);
    }
    return result;
  });
}
