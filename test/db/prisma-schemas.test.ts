import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { derivePostgresSchema } from '../../scripts/prisma';

const ROOT = path.resolve(__dirname, '../..');

describe('Prisma schemas', () => {
  it('the committed PostgreSQL schema is derived from the SQLite one (run `npx tsx scripts/prisma.ts generate`)', () => {
    const sqlite = readFileSync(path.join(ROOT, 'prisma/schema.prisma'), 'utf8');
    const postgres = readFileSync(path.join(ROOT, 'prisma/postgresql/schema.prisma'), 'utf8');
    expect(postgres).toBe(derivePostgresSchema(sqlite));
    expect(postgres).toContain('provider = "postgresql"');
    expect(postgres).toContain('url      = env("DATABASE_URL")');
    expect(postgres.match(/^model \w+/gm)).toEqual(sqlite.match(/^model \w+/gm));
  });
});
