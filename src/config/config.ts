import os from 'node:os';
import path from 'node:path';
import { parseScopes, SCOPES, type Scope } from '../auth/scopes';
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
  /**
   * Seeds the `default` alias (what a query naming no model serves) at start, unless setModelAlias
   * has set it; must be a served model id with a generator. Unset: the shipped DCGAN
   * (<modelsDir>/dcgan-mnist), else the only served model with a generator. @default unset (env GANQL_DEFAULT_MODEL)
   */
  defaultModelId: string | undefined;
  /**
   * With PostgreSQL, how often a replica reads the aliases and archive marks other replicas set (one
   * small query); changes made on a replica apply there at once. Unused on SQLite (one process).
   * @default 1000 ms (env GANQL_MODEL_STATE_POLL_MS, 100..600000)
   */
  modelStatePollMs: number;
  /**
   * tfjs backends to try, in order, for everything ONNX Runtime does not serve (layer passes, feature
   * analyses, training; generate and classify too when ONNX Runtime is off or does not load).
   * @default tensorflow-gpu,tensorflow,wasm,cpu (env GANQL_BACKEND, comma list; its tfjs names)
   */
  backendOrder: BackendName[];
  /** Generate and classify on ONNX Runtime (onnxruntime-node) when it loads. */
  onnx: OnnxConfig;
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
   * API requests (/graphql and /images) handled at once; more wait unread, so /healthz and /metrics stay responsive
   * under load. @default 32 (env GANQL_MAX_CONCURRENT_REQUESTS)
   */
  maxConcurrentRequests: number;
  /** Requests allowed to wait for admission; beyond it HTTP 503 with OVERLOADED. @default 1024 (env GANQL_MAX_WAITING_REQUESTS) */
  maxWaitingRequests: number;
  /** Limits on one GraphQL request, checked before any resolver runs. */
  queryLimits: QueryLimits;
  /** Log level. @default "info" (env GANQL_LOG_LEVEL) */
  logLevel: LogLevel;
  /** Training jobs started over GraphQL (startTraining). */
  training: TrainingConfig;
  /** Who may do what without an API key, and how fast keys may go (src/auth). */
  auth: AuthConfig;
  /** Several processes sharing one PostgreSQL database (src/runs/replica.ts). */
  replica: ReplicaConfig;
  /** Browsers, caches and scrapers talking to ganql over HTTP (src/server). */
  http: HttpConfig;
}

export interface HttpConfig {
  /**
   * Origins (scheme://host[:port], exactly as browsers send them) whose pages may call /graphql,
   * /images and /healthz from another origin (CORS). Empty: none, the studio and explorer being
   * same-origin. @default "" (env GANQL_CORS_ORIGINS, comma list)
   */
  corsOrigins: string[];
  /**
   * Absolute URL ganql is reached at from outside (with a path prefix behind a proxy), without the
   * trailing slash: Image.url is made absolute under it. Unset: Image.url is relative ("/images/<id>.png").
   * @default unset (env GANQL_PUBLIC_URL)
   */
  publicUrl: string | undefined;
  /**
   * Bytes of encoded sample PNGs kept in memory for GET /images (least recently used go first);
   * a miss regenerates the image through the pool. 0 keeps none. @default 16777216 (16 MiB, some
   * 25,000 28x28 digits; env GANQL_IMAGE_CACHE_BYTES)
   */
  imageCacheBytes: number;
  /**
   * Scope a request needs to read /metrics (a key, or the anonymous policy, that grants it).
   * Unset: /metrics is open to anyone who can reach the port. @default unset (env GANQL_METRICS_SCOPE)
   */
  metricsScope: Scope | undefined;
}

export interface OnnxConfig {
  /**
   * Try ONNX Runtime for generate and classify; tfjs serves them when it does not load or a model
   * cannot be exported. @default true: on when GANQL_BACKEND is unset, else when it lists "onnxruntime"
   */
  enabled: boolean;
  /**
   * Intra-op threads of each ONNX Runtime session. Each inference worker holds its own sessions, so
   * the default of 1 uses one core per worker, as the wasm backend does. @default 1 (env GANQL_ONNX_THREADS, 1..64)
   */
  threads: number;
  /**
   * ONNX Runtime execution providers, in order: "cuda" asks for NVIDIA GPUs (the CUDA provider's
   * libraries must be installed; when they do not load, sessions run on the CPU provider and the
   * reason is logged and shown with each model's engines). @default ["cpu"] (env GANQL_ONNX_PROVIDERS, comma list of cuda, cpu)
   */
  providers: OnnxProvider[];
}

export interface ReplicaConfig {
  /** How often this process writes its heartbeat and checks for replicas that stopped. @default 5000 ms (env GANQL_REPLICA_HEARTBEAT_MS) */
  heartbeatMs: number;
  /**
   * A replica whose heartbeat is older than this is taken for dead: its runs are closed INTERRUPTED
   * and its training jobs go back to the queue. Several heartbeats long, so a busy event loop is not
   * a death. @default 30000 ms (env GANQL_REPLICA_TIMEOUT_MS, at least 3 heartbeats)
   */
  timeoutMs: number;
}

export interface AuthConfig {
  /**
   * Scopes of requests without a key from this machine (127.0.0.1, ::1): sampling is open on
   * localhost, everything else needs a key. "" keys everything. Behind a reverse proxy on the same
   * host every request looks local: set "" there. @default "sample" (env GANQL_ANONYMOUS_SCOPES)
   */
  anonymousLoopbackScopes: Scope[];
  /** Scopes of requests without a key from other hosts. @default "" (env GANQL_ANONYMOUS_REMOTE_SCOPES) */
  anonymousRemoteScopes: Scope[];
  /**
   * Requests per second per API key (a key created with its own --rate-limit uses that); beyond it
   * HTTP 429 RATE_LIMITED. Counted in the database on PostgreSQL, so shared by every replica; in
   * memory per process on SQLite. 0 turns it off. @default 50 (env GANQL_KEY_RATE_LIMIT)
   */
  keyRatePerSecond: number;
  /** Requests a key may send at once after a quiet spell. @default 100 (env GANQL_KEY_RATE_BURST) */
  keyRateBurst: number;
}

export interface TrainingConfig {
  /**
   * Folder of the jobs' working folders (checkpoints, sample grids), one per job id; a finished
   * version moves from there into modelsDir. @default "./data/training" (env GANQL_TRAINING_DIR)
   */
  jobsDir: string;
  /** Jobs training at once, each on a worker thread of its own; more wait QUEUED. @default 1 (env GANQL_MAX_TRAINING_JOBS, 1..64) */
  maxJobs: number;
  /**
   * At start, resume jobs a stopped process left RUNNING or QUEUED (or a shutdown left INTERRUPTED)
   * from their last checkpoint; false marks them INTERRUPTED instead. @default true (env GANQL_RESUME_TRAINING)
   */
  resume: boolean;
  /**
   * Threads each job's native kernels use (products and convolutions on the caller's thread and
   * helpers; see docs/operations.md for the trade-off with serving); 0 trains on wasm's kernels alone.
   * @default the machine's cores, at most 8 (env GANQL_TRAINING_THREADS, 0..64)
   */
  threads: number;
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
  /**
   * Feature analyses (neuronProbe, optimalStimulus, featureClassifier, conceptFilters) in one request:
   * one may read the 1,000 test images or generate up to 4,000 samples. @default 2 (env GANQL_MAX_ANALYSES_PER_REQUEST)
   */
  maxAnalyses: number;
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

/** GANQL_MAX_SAMPLES unset: most images one samples or classify field may ask for; the GraphQL descriptions state it. */
export const DEFAULT_MAX_SAMPLES = 256;

const BACKENDS: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
/** The GANQL_BACKEND name that turns ONNX Runtime on for generate and classify. */
const ONNX_RUNTIME = 'onnxruntime';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
/** ONNX Runtime execution providers ganql can ask for: NVIDIA GPUs through CUDA, and the CPU. */
export const ONNX_PROVIDERS = ['cuda', 'cpu'] as const;
export type OnnxProvider = (typeof ONNX_PROVIDERS)[number];

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

/**
 * GANQL_BACKEND: "onnxruntime" (anywhere in the list) turns ONNX Runtime on; the tfjs names are tried
 * in order for the rest, all of them when the list names none. Unset: ONNX Runtime on, every tfjs backend.
 */
function backends(raw: string | undefined): { order: BackendName[]; onnx: boolean } {
  if (raw === undefined || raw.trim() === '') return { order: [...BACKENDS], onnx: true };
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (name !== ONNX_RUNTIME && !(BACKENDS as readonly string[]).includes(name)) {
      throw new ConfigError(`GANQL_BACKEND: expected a comma list of ${[ONNX_RUNTIME, ...BACKENDS].join(', ')}, got ${JSON.stringify(name)}`);
    }
  }
  // Checked just above against BACKENDS.
  const order = names.filter((n) => n !== ONNX_RUNTIME) as BackendName[];
  return { order: order.length > 0 ? order : [...BACKENDS], onnx: names.includes(ONNX_RUNTIME) };
}

/** GANQL_ONNX_PROVIDERS: a comma list of cuda and cpu, each at most once. Unset: the CPU provider. */
function onnxProviders(raw: string | undefined): OnnxProvider[] {
  if (raw === undefined || raw.trim() === '') return ['cpu'];
  const names = raw.split(',').map((s) => s.trim());
  names.forEach((name, i) => {
    if (!(ONNX_PROVIDERS as readonly string[]).includes(name)) {
      throw new ConfigError(`GANQL_ONNX_PROVIDERS: expected a comma list of ${ONNX_PROVIDERS.join(', ')}, got ${JSON.stringify(name)}`);
    }
    if (names.indexOf(name) !== i) throw new ConfigError(`GANQL_ONNX_PROVIDERS: expected each provider once, got ${JSON.stringify(name)} twice`);
  });
  // Checked just above against ONNX_PROVIDERS.
  return names as OnnxProvider[];
}

function boolean(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${key}: expected true, false, 1 or 0, got ${JSON.stringify(raw)}`);
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

/** "https://app.example.com, http://localhost:5173" -> exact origins; anything that is not an origin is refused, saying what it would be. */
function corsOrigins(raw: string | undefined): string[] {
  const origins: string[] = [];
  for (const entry of (raw ?? '').split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      origin = undefined;
    }
    if (origin !== entry) {
      const hint = origin === undefined ? '' : ` (the origin of that URL is ${JSON.stringify(origin)})`;
      throw new ConfigError(
        `GANQL_CORS_ORIGINS: expected a comma list of origins such as https://app.example.com (http or https, host and port, no path), got ${JSON.stringify(entry)}${hint}`,
      );
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
}

function publicUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw new ConfigError(
      `GANQL_PUBLIC_URL: expected an absolute http(s) URL without query, fragment or credentials, such as https://ganql.example.com, got ${JSON.stringify(raw)}`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

function metricsScope(raw: string | undefined): Scope | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const parsed = parseScopesOrConfigError(raw, 'GANQL_METRICS_SCOPE');
  if (parsed.length !== 1) throw new ConfigError(`GANQL_METRICS_SCOPE: expected one scope of ${SCOPES.join(', ')}, got ${JSON.stringify(raw)}`);
  return parsed[0];
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
    maxAnalyses: integer(env, 'GANQL_MAX_ANALYSES_PER_REQUEST', 2, 0, 10_000),
  };
  const modelsDir = overrides.modelsDir ?? path.resolve(env.GANQL_MODELS_DIR || 'models');
  const training: TrainingConfig = {
    jobsDir: path.resolve(env.GANQL_TRAINING_DIR || path.join('data', 'training')),
    maxJobs: integer(env, 'GANQL_MAX_TRAINING_JOBS', 1, 1, 64),
    resume: boolean(env, 'GANQL_RESUME_TRAINING', true),
    threads: integer(env, 'GANQL_TRAINING_THREADS', defaultTrainingThreads(), 0, 64),
  };
  const auth: AuthConfig = {
    anonymousLoopbackScopes: scopes(env, 'GANQL_ANONYMOUS_SCOPES', 'sample'),
    anonymousRemoteScopes: scopes(env, 'GANQL_ANONYMOUS_REMOTE_SCOPES', ''),
    keyRatePerSecond: integer(env, 'GANQL_KEY_RATE_LIMIT', 50, 0, 1_000_000),
    keyRateBurst: integer(env, 'GANQL_KEY_RATE_BURST', 100, 1, 1_000_000),
  };
  const replica: ReplicaConfig = {
    heartbeatMs: integer(env, 'GANQL_REPLICA_HEARTBEAT_MS', 5000, 100, 600_000),
    timeoutMs: integer(env, 'GANQL_REPLICA_TIMEOUT_MS', 30_000, 300, 3_600_000),
  };
  const backend = backends(env.GANQL_BACKEND);
  const onnx: OnnxConfig = {
    enabled: backend.onnx,
    threads: integer(env, 'GANQL_ONNX_THREADS', 1, 1, 64),
    providers: onnxProviders(env.GANQL_ONNX_PROVIDERS),
  };
  if (replica.timeoutMs < 3 * replica.heartbeatMs) {
    throw new ConfigError(`GANQL_REPLICA_TIMEOUT_MS: expected at least 3 heartbeats (${3 * replica.heartbeatMs} ms), got ${replica.timeoutMs}`);
  }
  const http: HttpConfig = {
    corsOrigins: corsOrigins(env.GANQL_CORS_ORIGINS),
    publicUrl: publicUrl(env.GANQL_PUBLIC_URL),
    imageCacheBytes: integer(env, 'GANQL_IMAGE_CACHE_BYTES', 16 * 1024 * 1024, 0, 2 ** 40),
    metricsScope: metricsScope(env.GANQL_METRICS_SCOPE),
  };
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: databaseUrl(env.DATABASE_URL),
    modelsDir,
    scorersDir: env.GANQL_SCORERS_DIR ? path.resolve(env.GANQL_SCORERS_DIR) : path.join(modelsDir, 'scorers'),
    defaultModelId: env.GANQL_DEFAULT_MODEL || undefined,
    modelStatePollMs: integer(env, 'GANQL_MODEL_STATE_POLL_MS', 1000, 100, 600_000),
    backendOrder: backend.order,
    maxSamplesPerRequest: integer(env, 'GANQL_MAX_SAMPLES', DEFAULT_MAX_SAMPLES, 1, 65_536),
    maxConcurrentRequests: integer(env, 'GANQL_MAX_CONCURRENT_REQUESTS', 32, 1, 100_000),
    maxWaitingRequests: integer(env, 'GANQL_MAX_WAITING_REQUESTS', 1024, 0, 1_000_000),
    inferenceWorkers: env.GANQL_INFERENCE_WORKERS ? integer(env, 'GANQL_INFERENCE_WORKERS', 0, 0, 256) : undefined,
    logLevel: logLevel(env.GANQL_LOG_LEVEL),
    ...overrides,
    pool: { ...pool, ...overrides.pool },
    queryLimits: { ...queryLimits, ...overrides.queryLimits },
    onnx: { ...onnx, ...overrides.onnx },
    training: { ...training, ...overrides.training },
    auth: { ...auth, ...overrides.auth },
    replica: { ...replica, ...overrides.replica },
    http: { ...http, ...overrides.http },
  };
}

function scopes(env: NodeJS.ProcessEnv, name: string, fallback: string): Scope[] {
  return parseScopesOrConfigError(env[name] ?? fallback, name);
}

function parseScopesOrConfigError(text: string, name: string): Scope[] {
  try {
    return parseScopes(text, name);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** One native thread per core, at most 8: beyond that a training step's products are too small to share. */
export function defaultTrainingThreads(): number {
  return Math.min(8, os.availableParallelism());
}
