import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Pool } from 'pg';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as SqlitePrismaClient } from '../generated/sqlite';
import { PrismaClient as PostgresPrismaClient } from '../generated/postgresql';
import { migrate, type MigrationResult, type MigrationTarget } from './migrate';

/**
 * The Prisma client type services use. Both generated clients come from the same models
 * (prisma/postgresql/schema.prisma is derived from prisma/schema.prisma), so their APIs agree.
 */
export type Prisma = SqlitePrismaClient;

export type DatabaseProvider = 'sqlite' | 'postgresql';

export interface Database {
  provider: DatabaseProvider;
  prisma: Prisma;
  /** Applies pending migrations from the provider's migrations folder. */
  migrate(log?: (message: string) => void): Promise<MigrationResult>;
  /**
   * Runs one write statement written with `?` placeholders (rewritten to `$n` on PostgreSQL) on a
   * driver connection of ganql's own, not through Prisma, and returns the rows affected. For the
   * per-request hot path: a Prisma model query costs ~2-4 ms of CPU here (its query compiler runs
   * in wasm), a raw one through Prisma ~0.4 ms, a prepared better-sqlite3 statement ~0.02 ms.
   * Dates are written in Prisma's format and bytes as blobs, so Prisma reads the rows back as usual.
   */
  execute(sql: string, params: readonly unknown[]): Promise<number>;
  /**
   * Runs one statement as execute does (the same connection, `?` placeholders) and returns its rows:
   * for reads on the hot path and for writes with RETURNING. Column values come as the driver gives
   * them: on SQLite dates are Prisma's ISO text (see sqliteDate) and booleans 0 or 1.
   */
  query<T>(sql: string, params: readonly unknown[]): Promise<T[]>;
  /**
   * Runs write statements as execute does, all in one transaction: all or none of them happen, and
   * no reader sees some done and others not. Returns the rows each affected, in order; or null when
   * a statement with `expectChange` changed no row, and so nothing was done (a claim that lost).
   */
  executeAll(statements: readonly Statement[]): Promise<number[] | null>;
  /** True when a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** One write statement for Database.execute / executeAll: `?` placeholders and their values. */
export interface Statement {
  sql: string;
  params: readonly unknown[];
  /** Roll the whole transaction back (executeAll answers null) if this statement changes no row. */
  expectChange?: boolean;
}

/** Thrown inside a transaction to roll it back when a guarded statement changed nothing. */
class GuardFailed extends Error {}

const PRISMA_DIR = path.resolve(__dirname, '../../prisma');

/** `?` placeholders as the provider wants them: unchanged for SQLite, `$1..$n` for PostgreSQL. */
export function placeholdersFor(provider: DatabaseProvider, sql: string): string {
  if (provider === 'sqlite') return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function providerOf(url: string): DatabaseProvider {
  return url.startsWith('file:') ? 'sqlite' : 'postgresql';
}

/** Opens the database named by `url` (file:... or postgresql://...). Nothing is migrated yet. */
export function openDatabase(url: string): Database {
  return providerOf(url) === 'sqlite' ? openSqlite(url) : openPostgres(url);
}

/** How Prisma's SQLite adapter stores DateTime: ISO 8601 text with "+00:00" (it sorts as text). */
export function sqliteDate(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/** Parameters as the drivers want them: dates as text in Prisma's format, bytes as Buffers, booleans as SQLite's 0/1. */
function driverParams(provider: DatabaseProvider, params: readonly unknown[]): unknown[] {
  return params.map((p) => {
    if (p instanceof Date) return provider === 'sqlite' ? sqliteDate(p) : p.toISOString();
    if (typeof p === 'boolean' && provider === 'sqlite') return p ? 1 : 0;
    if (p instanceof Uint8Array && !Buffer.isBuffer(p)) return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    return p;
  });
}

function openSqlite(url: string): Database {
  const file = url.slice('file:'.length);
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // A second connection of our own for migrations; Prisma's adapter keeps its own.
  const migrationTarget = (): { target: MigrationTarget; close: () => void } => {
    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    const target: MigrationTarget = {
      provider: 'sqlite',
      execute: async (sql, params) => {
        if (params) db.prepare(sql).run(...params);
        else db.exec(sql);
      },
      query: async <T>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) as T[],
      exclusive: async (work) => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work();
          db.exec('COMMIT');
          return result;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      },
    };
    return { target, close: () => db.close() };
  };
  const prisma = new SqlitePrismaClient({ adapter: new PrismaBetterSQLite3({ url: file }) });
  // The hot-path writer (see Database.execute): one connection, prepared statements cached by text.
  let writer: BetterSqlite3.Database | undefined;
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string): BetterSqlite3.Statement => {
    if (!writer) {
      writer = new BetterSqlite3(file);
      writer.pragma('busy_timeout = 5000');
      // WAL with synchronous=NORMAL: no fsync per commit; a process crash loses nothing, a power cut
      // can lose the last commits (SQLite's recommended setting for WAL).
      writer.pragma('synchronous = NORMAL');
    }
    let statement = statements.get(sql);
    if (!statement) {
      statement = writer.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  return {
    provider: 'sqlite',
    prisma,
    async migrate(log) {
      const { target, close } = migrationTarget();
      try {
        return await migrate(target, path.join(PRISMA_DIR, 'migrations'), log);
      } finally {
        close();
      }
    },
    execute: async (sql, params) => prepared(sql).run(...driverParams('sqlite', params)).changes,
    // better-sqlite3 returns unknown rows; the caller names their shape.
    query: async <T>(sql: string, params: readonly unknown[]) => prepared(sql).all(...driverParams('sqlite', params)) as T[],
    executeAll: async (list) => {
      if (list.length === 0) return [];
      const run = list.map((s) => prepared(s.sql));
      // better-sqlite3 transactions are synchronous: nothing else runs on this connection meanwhile.
      const all = writer!.transaction(() =>
        run.map((statement, i) => {
          const changes = statement.run(...driverParams('sqlite', list[i].params)).changes;
          if (list[i].expectChange && changes === 0) throw new GuardFailed();
          return changes;
        }),
      );
      try {
        return all();
      } catch (error) {
        if (error instanceof GuardFailed) return null;
        throw error;
      }
    },
    // On the hot-path connection, answered within the caller's turn of the event loop: /healthz stays fast while Prisma's queue is long.
    ping: async () => {
      try {
        prepared('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      writer?.close();
      await prisma.$disconnect();
    },
  };
}

function openPostgres(url: string): Database {
  const prisma = new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  // The hot-path writer (see Database.execute): a small pool of plain pg connections.
  const writer = new Pool({ connectionString: url, max: 4 });
  return {
    provider: 'postgresql',
    // Same models, same API: see the Prisma type above.
    prisma: prisma as unknown as Prisma,
    async migrate(log) {
      const pool = new Pool({ connectionString: url, max: 1 });
      const client = await pool.connect();
      try {
        const target: MigrationTarget = {
          provider: 'postgresql',
          execute: async (sql, params) => {
            await client.query(sql, params);
          },
          query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
          exclusive: async (work) => {
            await client.query('BEGIN');
            try {
              // Prisma Migrate's own advisory lock key: replicas starting together migrate one at a time.
              await client.query('SELECT pg_advisory_xact_lock(72707369)');
              const result = await work();
              await client.query('COMMIT');
              return result;
            } catch (error) {
              await client.query('ROLLBACK');
              throw error;
            }
          },
        };
        return await migrate(target, path.join(PRISMA_DIR, 'postgresql', 'migrations'), log);
      } finally {
        client.release();
        await pool.end();
      }
    },
    execute: async (sql, params) => (await writer.query(placeholdersFor('postgresql', sql), driverParams('postgresql', params))).rowCount ?? 0,
    // pg returns untyped rows; the caller names their shape.
    query: async <T>(sql: string, params: readonly unknown[]) =>
      (await writer.query(placeholdersFor('postgresql', sql), driverParams('postgresql', params))).rows as T[],
    executeAll: async (list) => {
      const client = await writer.connect();
      try {
        await client.query('BEGIN');
        const counts: number[] = [];
        for (const s of list) {
          const changes = (await client.query(placeholdersFor('postgresql', s.sql), driverParams('postgresql', s.params))).rowCount ?? 0;
          if (s.expectChange && changes === 0) throw new GuardFailed();
          counts.push(changes);
        }
        await client.query('COMMIT');
        return counts;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (error instanceof GuardFailed) return null;
        throw error;
      } finally {
        client.release();
      }
    },
    ping: () => ping(prisma as unknown as Prisma),
    close: async () => {
      await writer.end();
      await prisma.$disconnect();
    },
  };
}

async function ping(prisma: Prisma): Promise<boolean> {
  try {
    await prisma.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
