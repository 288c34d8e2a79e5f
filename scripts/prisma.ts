/**
 * Prisma schema tooling for ganql's two providers.
 *
 *   tsx scripts/prisma.ts generate   derive prisma/postgresql/schema.prisma from prisma/schema.prisma,
 *                                    then generate both Prisma clients (runs on `npm ci`)
 *   tsx scripts/prisma.ts check      exit 1 if the committed PostgreSQL schema is stale
 *
 * A new migration: edit prisma/schema.prisma, run `generate`, then
 *   npx prisma migrate diff --from-migrations prisma/migrations --to-schema-datamodel prisma/schema.prisma --script
 *   PRISMA_PROVIDER=postgresql npx prisma migrate diff --from-migrations prisma/postgresql/migrations \
 *     --to-schema-datamodel prisma/postgresql/schema.prisma --shadow-database-url $DATABASE_URL_SHADOW --script
 * and save each output as <timestamp>_<name>/migration.sql in its migrations folder.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const sqliteSchema = path.join(root, 'prisma/schema.prisma');
const postgresSchema = path.join(root, 'prisma/postgresql/schema.prisma');

export function derivePostgresSchema(sqlite: string): string {
  return sqlite
    .replace(
      /^\/\/ ganql's database\..*\n(\/\/.*\n)*/m,
      "// ganql's database on PostgreSQL, derived from prisma/schema.prisma by scripts/prisma.ts: do not edit.\n",
    )
    .replace('output     = "../src/generated/sqlite"', 'output     = "../../src/generated/postgresql"')
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    .replace('env("GANQL_SQLITE_URL")', 'env("DATABASE_URL")');
}

function generate(): void {
  writeFileSync(postgresSchema, derivePostgresSchema(readFileSync(sqliteSchema, 'utf8')));
  const prisma = path.join(root, 'node_modules/.bin/prisma');
  // The CLI resolves env("...") urls even for `generate`; an unset one makes it fetch engines.
  const env = {
    ...process.env,
    GANQL_SQLITE_URL: process.env.GANQL_SQLITE_URL ?? 'file:./data/ganql.db',
    DATABASE_URL: process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : 'postgresql://localhost/placeholder',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  for (const provider of ['sqlite', 'postgresql']) {
    execFileSync(prisma, ['generate', '--no-hints'], { cwd: root, stdio: 'inherit', env: { ...env, PRISMA_PROVIDER: provider } });
  }
}

function check(): void {
  const expected = derivePostgresSchema(readFileSync(sqliteSchema, 'utf8'));
  if (readFileSync(postgresSchema, 'utf8') !== expected) {
    console.error('prisma/postgresql/schema.prisma is stale: run `tsx scripts/prisma.ts generate`');
    process.exit(1);
  }
}

if (require.main === module) {
  const command = process.argv[2];
  if (command === 'generate') generate();
  else if (command === 'check') check();
  else {
    console.error(`usage: tsx scripts/prisma.ts generate|check (got ${JSON.stringify(command)})`);
    process.exit(2);
  }
}
