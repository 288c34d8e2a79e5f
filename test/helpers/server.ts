import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../src/config/config';
import { createLogger } from '../../src/log/logger';
import { createGanql, type Ganql } from '../../src/server/app';

/** The repo's shipped models: integration tests run the real trained generator. */
export const MODELS_DIR = path.resolve(__dirname, '../../models');

export interface TestServer {
  ganql: Ganql;
  http: ReturnType<typeof supertest>;
  /** POSTs a GraphQL request and returns the parsed body (status must be 200 or 400). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GqlBody<T>>;
  stop(): Promise<void>;
}

export interface GqlBody<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

/** A real ganql on a fresh SQLite file (or the given database), wasm backend, not listening. */
export async function startTestServer(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-test-'));
  const config = loadConfig(
    { GANQL_BACKEND: 'wasm', GANQL_LOG_LEVEL: 'error', DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`, ...env },
    { modelsDir: MODELS_DIR, ...overrides },
  );
  const ganql = await createGanql(config, createLogger(config.logLevel));
  const http = supertest(ganql.httpServer);
  return {
    ganql,
    http,
    async gql(query, variables) {
      const res = await http.post('/graphql').set('content-type', 'application/json').send({ query, variables });
      if (res.status !== 200 && res.status !== 400) throw new Error(`unexpected HTTP ${res.status}: ${res.text}`);
      return res.body;
    },
    async stop() {
      await ganql.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
