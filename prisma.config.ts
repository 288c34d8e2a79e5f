// Prisma CLI configuration. `engine: "js"` with a driver adapter keeps the CLI off the network:
// Prisma would otherwise download schema/query engine binaries. PRISMA_PROVIDER=postgresql
// points the CLI at the PostgreSQL schema and migrations (see scripts/prisma.ts).
import path from 'node:path';
import { defineConfig } from 'prisma/config';

const provider = process.env.PRISMA_PROVIDER === 'postgresql' ? 'postgresql' : 'sqlite';
const root = provider === 'postgresql' ? 'prisma/postgresql' : 'prisma';
process.env.GANQL_SQLITE_URL ??= 'file:./data/ganql.db';

export default defineConfig({
  schema: path.join(root, 'schema.prisma'),
  migrations: { path: path.join(root, 'migrations') },
  experimental: { adapter: true },
  engine: 'js',
  async adapter() {
    if (provider === 'postgresql') {
      const { PrismaPg } = await import('@prisma/adapter-pg');
      return new PrismaPg({ connectionString: process.env.DATABASE_URL });
    }
    const { PrismaBetterSQLite3 } = await import('@prisma/adapter-better-sqlite3');
    return new PrismaBetterSQLite3({ url: process.env.GANQL_SQLITE_URL ?? 'file:./data/ganql.db' });
  },
});
