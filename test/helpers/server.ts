import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../src/config/config';
import { createLogger, type Logger } from '../../src/log/logger';
import { createGanql, type Ganql, type GanqlOptions } from '../../src/server/app';

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

export interface TestServerOptions {
  /**
   * Serve a temporary copy of the shipped dcgan-mnist instead of the repo's models/, so versions a
   * test trains go there, never into models/ (scorers still come from the repo).
   */
  tempModels?: boolean;
  /** Where the server logs (default: JSON lines on stderr at the config's level). */
  log?: Logger;
  /** createGanql's injection points (e.g. an onnxruntime-node that does not load). */
  ganql?: GanqlOptions;
}

/** Copies the shipped dcgan-mnist (without ONNX files a server may have written beside it) into `<dir>/models` and returns that folder. */
export function tempModelsDir(dir: string): string {
  const modelsDir = path.join(dir, 'models');
  cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(modelsDir, 'dcgan-mnist'), { recursive: true, filter: (source) => !source.endsWith('.onnx') });
  return modelsDir;
}

/**
 * A real ganql on a fresh SQLite file (or the given database), wasm backend, not listening. Training
 * jobs keep their working folders in the temporary folder.
 */
export async function startTestServer(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-test-'));
  const models = options.tempModels ? { modelsDir: tempModelsDir(dir), scorersDir: path.join(MODELS_DIR, 'scorers') } : { modelsDir: MODELS_DIR };
  const config = loadConfig(
    {
      GANQL_BACKEND: 'wasm',
      GANQL_LOG_LEVEL: 'error',
      GANQL_ANONYMOUS_SCOPES: 'admin',
      DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`,
      GANQL_TRAINING_DIR: path.join(dir, 'training'),
      ...env,
    },
    { ...models, ...overrides },
  );
  const ganql = await createGanql(config, options.log ?? createLogger(config.logLevel), options.ganql);
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
