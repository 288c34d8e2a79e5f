import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/log/logger';
import { createGanql } from '../../src/server/app';

/**
 * Runs `work` against a real ganql on 127.0.0.1 (ephemeral port, wasm backend, a throw-away SQLite
 * file), then stops it and removes the file, whatever happens.
 */
export async function withLocalGanql<T>(work: (base: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-script-'));
  const config = loadConfig({
    GANQL_BACKEND: 'wasm',
    GANQL_LOG_LEVEL: 'error',
    DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`,
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const ganql = await createGanql(config, createLogger('error'));
  try {
    const { port } = await ganql.listen();
    return await work(`http://127.0.0.1:${port}`);
  } finally {
    await ganql.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A GraphQL client for `base` that returns a reply's data and throws on any error. The caller names
 * the data's type `T`, declared beside the query from the fields it selects; nothing checks it.
 */
export function graphqlAt(base: string): <T>(query: string) => Promise<T> {
  return async <T>(query: string): Promise<T> => {
    const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const body = (await res.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  };
}
