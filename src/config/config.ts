import path from 'node:path';
import type { BackendName } from '../backend/backend';

/** Every setting of a ganql process, validated once where it enters (environment or tests). */
export interface Config {
  /** HTTP port. @default 4000 (env PORT) */
  port: number;
  /** Interface to listen on. @default "0.0.0.0" (env HOST) */
  host: string;
  /**
   * Database URL. `file:...` selects the embedded SQLite database, `postgresql://...` PostgreSQL.
   * @default "file:./data/ganql.db" (env DATABASE_URL)
   */
  databaseUrl: string;
  /** Folder holding one sub-folder per model version, each with a manifest.json. @default "./models" (env GANQL_MODELS_DIR) */
  modelsDir: string;
  /** Folder holding one sub-folder per scorer, each with a scorer.json. @default "<modelsDir>/scorers" (env GANQL_SCORERS_DIR) */
  scorersDir: string;
  /** Model id used when a query names none. @default the first model by name (env GANQL_DEFAULT_MODEL) */
  defaultModelId: string | undefined;
  /** Backends to try, in order. @default tensorflow-gpu,tensorflow,wasm,cpu (env GANQL_BACKEND, comma list) */
  backendOrder: BackendName[];
  /** Most images one request may ask for. @default 256 (env GANQL_MAX_SAMPLES) */
  maxSamplesPerRequest: number;
  /**
   * Inference worker threads, each with its own backend and copy of every model (see planExecutor):
   * 0 runs inference in-process, on the event loop. Unset picks by backend: one per core
   * (os.availableParallelism()) for wasm and cpu, 1 for tensorflow (TensorFlow spreads each op over
   * the cores itself), and always in-process for tensorflow-gpu (one executor owns the GPU).
   * @default unset (env GANQL_INFERENCE_WORKERS, 0..256)
   */
  inferenceWorkers: number | undefined;
  /** Inference pool settings, as in Triton's dynamic batcher. */
  pool: PoolConfig;
  /**
   * GraphQL requests handled at once; more wait unread, so /healthz and /metrics stay responsive
   * under load. @default 32 (env GANQL_MAX_CONCURRENT_REQUESTS)
   */
  maxConcurrentRequests: number;
  /** Requests allowed to wait for admission; beyond it HTTP 503 with OVERLOADED. @default 1024 (env GANQL_MAX_WAITING_REQUESTS) */
  maxWaitingRequests: number;
  /** Limits on one GraphQL request, checked before any resolver runs. */
  queryLimits: QueryLimits;
  /** Log level. @default "info" (env GANQL_LOG_LEVEL) */
  logLevel: LogLevel;
}

/** Each refused with QUERY_TOO_COMPLEX; see measureOperation for how each is counted. */
export interface QueryLimits {
  /** Deepest field nesting (a root field is 1); the deepest useful query, model -> runs -> edges -> node -> field, is 5. @default 12 (env GANQL_MAX_QUERY_DEPTH) */
  maxDepth: number;
  /** Aliased fields in one operation: enough for a dashboard, not for a flood of copies. @default 32 (env GANQL_MAX_ALIASES) */
  maxAliases: number;
  /** Root fields in one operation; each may start its own run. @default 16 (env GANQL_MAX_ROOT_FIELDS) */
  maxRootFields: number;
  /** Fields resolved, lists multiplied by their length; samples(count: 256) with every field, run included, is ~7200. @default 10000 (env GANQL_MAX_QUERY_COST) */
  maxCost: number;
  /** Images all root fields together generate; the same as one full samples call. @default 256 (env GANQL_MAX_IMAGES_PER_REQUEST) */
  maxImages: number;
}

export interface PoolConfig {
  /** Largest batch one forward pass takes. @default 64 (env GANQL_MAX_BATCH_SIZE) */
  maxBatchSize: number;
  /** Longest an item waits for others to fill its batch. @default 5 ms (env GANQL_MAX_QUEUE_DELAY_MS) */
  maxQueueDelayMs: number;
  /** Items waiting beyond this are refused at once with OVERLOADED. @default 4096 (env GANQL_MAX_QUEUE_SIZE) */
  maxQueueSize: number;
  /** An item not finished within this fails with TIMEOUT. @default 30000 ms (env GANQL_REQUEST_TIMEOUT_MS) */
  requestTimeoutMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const BACKENDS: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key}: expected an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function backendOrder(raw: string | undefined): BackendName[] {
  if (raw === undefined || raw.trim() === '') return [...BACKENDS];
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(BACKENDS as readonly string[]).includes(name)) {
      throw new ConfigError(`GANQL_BACKEND: expected a comma list of ${BACKENDS.join(', ')}, got ${JSON.stringify(name)}`);
    }
  }
  // Checked just above against BACKENDS.
  return names as BackendName[];
}

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError(`GANQL_LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as LogLevel;
}

function databaseUrl(raw: string | undefined): string {
  const url = raw === undefined || raw === '' ? 'file:./data/ganql.db' : raw;
  if (!/^(file:|postgres(ql)?:\/\/)/.test(url)) {
    throw new ConfigError(`DATABASE_URL: expected file:<path> or postgresql://..., got ${JSON.stringify(url.replace(/\/\/[^@]*@/, '//***@'))}`);
  }
  return url;
}

/** Reads and validates the configuration from environment variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const pool: PoolConfig = {
    maxBatchSize: integer(env, 'GANQL_MAX_BATCH_SIZE', 64, 1, 4096),
    maxQueueDelayMs: integer(env, 'GANQL_MAX_QUEUE_DELAY_MS', 5, 0, 10_000),
    maxQueueSize: integer(env, 'GANQL_MAX_QUEUE_SIZE', 4096, 1, 1_000_000),
    requestTimeoutMs: integer(env, 'GANQL_REQUEST_TIMEOUT_MS', 30_000, 1, 3_600_000),
  };
  const queryLimits: QueryLimits = {
    maxDepth: integer(env, 'GANQL_MAX_QUERY_DEPTH', 12, 1, 1000),
    maxAliases: integer(env, 'GANQL_MAX_ALIASES', 32, 0, 100_000),
    maxRootFields: integer(env, 'GANQL_MAX_ROOT_FIELDS', 16, 1, 100_000),
    maxCost: integer(env, 'GANQL_MAX_QUERY_COST', 10_000, 1, 1_000_000_000),
    maxImages: integer(env, 'GANQL_MAX_IMAGES_PER_REQUEST', 256, 1, 1_000_000),
  };
  const modelsDir = overrides.modelsDir ?? path.resolve(env.GANQL_MODELS_DIR || 'models');
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: databaseUrl(env.DATABASE_URL),
    modelsDir,
    scorersDir: env.GANQL_SCORERS_DIR ? path.resolve(env.GANQL_SCORERS_DIR) : path.join(modelsDir, 'scorers'),
    defaultModelId: env.GANQL_DEFAULT_MODEL || undefined,
    backendOrder: backendOrder(env.GANQL_BACKEND),
    maxSamplesPerRequest: integer(env, 'GANQL_MAX_SAMPLES', 256, 1, 65_536),
    maxConcurrentRequests: integer(env, 'GANQL_MAX_CONCURRENT_REQUESTS', 32, 1, 100_000),
    maxWaitingRequests: integer(env, 'GANQL_MAX_WAITING_REQUESTS', 1024, 0, 1_000_000),
    inferenceWorkers: env.GANQL_INFERENCE_WORKERS ? integer(env, 'GANQL_INFERENCE_WORKERS', 0, 0, 256) : undefined,
    logLevel: logLevel(env.GANQL_LOG_LEVEL),
    ...overrides,
    pool: { ...pool, ...overrides.pool },
    queryLimits: { ...queryLimits, ...overrides.queryLimits },
  };
}
