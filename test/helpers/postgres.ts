import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * The PostgreSQL server tests use, from GANQL_TEST_POSTGRES_URL (.ci/run sets it). Under CI a
 * missing URL is an error, so the PostgreSQL tests can never be skipped silently there.
 */
export function postgresUrl(): string | undefined {
  const url = process.env.GANQL_TEST_POSTGRES_URL;
  if (!url && process.env.CI) throw new Error('GANQL_TEST_POSTGRES_URL must be set under CI (see .ci/run)');
  return url || undefined;
}

/** Creates an empty database of its own on the server; returns its URL and a dropper. */
export async function createTempDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ganql_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
