import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { Registry } from 'prom-client';
import type { ClassType } from 'type-graphql';
import { initBackend, type BackendInfo } from '../backend/backend';
import type { OnnxConfig } from '../config/config';
import { ClassifyService } from '../classify/classify.service';
import type { Config } from '../config/config';
import { openDatabase, type Database } from '../db/database';
import { ErrorCode } from '../errors/error-code';
import { DatasetCache } from '../evaluation/dataset-cache';
import { EvaluationService } from '../evaluation/evaluation.service';
import { computeMetricsInWorker } from '../evaluation/metrics-runner';
import { AnalysisData } from '../features/analysis-inputs';
import { evaluateClassifiersInWorker, findConceptFiltersInWorker } from '../features/classifier-runner';
import { ConceptFilterService } from '../features/concept-filter.service';
import { FeatureAnalysisService } from '../features/feature-analysis.service';
import { NearestNeighbourService } from '../evaluation/nearest-neighbour.service';
import { ScorerCatalog } from '../evaluation/scorer-catalog';
import { ClassifyResolver } from '../graphql/classify/classify.resolver';
import { ImageResolver } from '../graphql/common/image.resolver';
import { FeaturesResolver } from '../graphql/features/features.resolver';
import { createContext, type GraphqlContext } from '../graphql/context';
import { EvaluationResolver } from '../graphql/evaluation/evaluation.resolver';
import { ModelEvaluationResolver } from '../graphql/evaluation/model-evaluation.resolver';
import { LatentResolver } from '../graphql/latent/latent.resolver';
import { ModelResolver } from '../graphql/models/model.resolver';
import { RunResolver } from '../graphql/runs/run.resolver';
import { SampleResolver } from '../graphql/samples/sample.resolver';
import { buildGanqlSchema } from '../graphql/schema';
import { createAuthChecker } from '../graphql/auth-checker';
import type { Principal } from '../auth/principal';
import type { Scope } from '../auth/scopes';
import { ApiKeyService } from '../auth/api-key.service';
import { RateLimiter } from '../auth/rate-limiter';
import { DatabaseRateLimiter } from '../auth/database-rate-limiter';
import { authMiddleware, presentedKey, resolvePrincipal, scopeMiddleware } from './auth.middleware';
import { corsMiddleware } from './cors';
import { IMAGES_PATH, imagesRouter, sampleImageUrl } from './images';
import { ServerInfoResolver } from '../graphql/server/server-info.resolver';
import { TrainingResolver } from '../graphql/training/training.resolver';
import { chooseExecutor } from '../inference/choose-executor';
import { ONNX_CUDA_ENGINE, ONNX_ENGINE, servedPasses, servingEngine, type OnnxServing } from '../inference/onnx-sessions';
import { usableProviders } from '../onnx/onnx-providers';
import { loadOnnxRuntime, type OnnxRuntimeLoad } from '../onnx/onnx-runtime';
import { InferencePool } from '../inference/pool';
import { LatentService } from '../latent/latent.service';
import type { Logger } from '../log/logger';
import { createEvaluationGauges, createMetrics } from '../metrics/metrics';
import { ModelRegistry } from '../models/model-registry';
import { ModelService } from '../models/model.service';
import { ModelAdminService } from '../model-admin/model-admin.service';
import { Replica } from '../runs/replica';
import { RunService } from '../runs/run.service';
import { SampleService } from '../samples/sample.service';
import { SamplePngCache } from '../samples/sample-png.cache';
import { SystemService } from '../system/system.service';
import { recoverTrainingJobs, TrainingJobService } from '../training-jobs/training-job.service';
import { TrainingJobStore } from '../training-jobs/training-job.store';
import { createJobQueue } from '../training-jobs/create-job-queue';
import { createAdmission } from './admission';
import { explorerRouter } from './explorer';
import { studioRouter } from './studio';
import { createFormatError } from './format-error';
import { healthHandler } from './health';
import { queryCostLimits } from './query-limits/query-limits.plugin';
import { queryShapeLimitsRule } from './query-limits/query-limits.rule';
import { recordRejectedRequests } from './record-rejected.plugin';
import { requestIdMiddleware } from './request-id.middleware';
import { createSubscriptionServer } from './subscriptions';
import { rejectMalformedText } from './well-formed-text';
import { rejectDeepDocuments } from './document-nesting';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- read at run time so dist/ needs no copy
const VERSION: string = (require('../../package.json') as { version: string }).version;

/** Largest request body accepted (explicit latents are the biggest legitimate input). */
const BODY_LIMIT = '5mb';

/** A running ganql: everything a test or main() needs to use it and to stop it. */
export interface Ganql {
  config: Config;
  backend: BackendInfo;
  /** What computes, as serverInfo names it: the tfjs backend, or "onnxruntime+<backend>" (see servingEngine). */
  engine: string;
  database: Database;
  httpServer: http.Server;
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** Stops intake, drains requests, interrupts background jobs, drains the pool, closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** What createGanql takes besides the configuration: injection points for tests. */
export interface GanqlOptions {
  /** Loads onnxruntime-node when the configuration asks for ONNX Runtime. @default loadOnnxRuntime */
  loadOnnxRuntime?: () => OnnxRuntimeLoad;
}

/** Builds and starts every piece of ganql except the listening socket. */
export async function createGanql(config: Config, log: Logger, options: GanqlOptions = {}): Promise<Ganql> {
  const backend = await initBackend({ order: config.backendOrder, log: (m) => log.info(m) });
  const { serving: onnx, unavailable: onnxUnavailable } = await onnxServing(config.onnx, log, options.loadOnnxRuntime ?? (() => loadOnnxRuntime()));
  const engine = servingEngine(backend.name, onnx?.engine);
  log.info('backend chosen', { backend: backend.name, customKernels: backend.customKernels, engine });

  const database = openDatabase(config.databaseUrl);
  const migrations = await database.migrate((m) => log.info(m));
  log.info('database ready', { provider: database.provider, applied: migrations.applied });

  // This process among the replicas sharing the database: the owner of the runs and training jobs it works on.
  const replica = new Replica(database, config.replica, log);
  await replica.register();
  const runService = new RunService(database, engine, log, replica.id);
  const trainingStore = new TrainingJobStore(database.prisma);
  const trainingQueue = createJobQueue(database, config.databaseUrl, config.training.maxJobs, log);
  // One process (SQLite): before the runs a dead process left RUNNING are closed, its training jobs are resumed (their runs stay open) or
  // INTERRUPTED with the reason. Replicas (PostgreSQL): only the work of replicas that stopped heartbeating is taken over (sweep below).
  const recoveredJobs = trainingQueue.shared ? [] : await recoverTrainingJobs(trainingStore, runService, config.training, log);
  if (!trainingQueue.shared) {
    const interrupted = await runService.closeInterrupted(
      'the process stopped while this run was in progress',
      recoveredJobs.map((job) => job.record.id),
    );
    if (interrupted > 0) log.warn('closed runs left RUNNING by a previous process', { interrupted });
  }

  const registry = await ModelRegistry.load(config.modelsDir, database.prisma, log, config.defaultModelId);
  if (registry.size === 0) log.warn('no model loaded', { modelsDir: config.modelsDir });

  const metricsRegistry = new Registry();
  const admission = createAdmission({
    maxConcurrent: config.maxConcurrentRequests,
    maxWaiting: config.maxWaitingRequests,
    onReject: () => metrics.onAdmissionRejected(),
  });
  // poolStats and admissionStats are read at scrape time only, after both exist.
  const metrics = createMetrics({
    registry: metricsRegistry,
    backend: engine,
    poolStats: () => pool.stats(),
    admissionStats: () => admission.stats(),
    imageCacheStats: () => sampleService.pngCacheStats(),
  });
  const executor = await chooseExecutor({ backend: backend.name, workers: config.inferenceWorkers, registry, modelsDir: config.modelsDir, onnx, log });
  const pool = new InferencePool(executor, config.pool, metrics.poolListener);
  // Each pass's engine; where ONNX Runtime was asked for and did not load, that is why each is on tfjs.
  const modelService = new ModelService(registry, engine, database.prisma, (id) =>
    servedPasses(pool.servingOf(id)).map(({ pass, engine: passEngine, reason }) => {
      const why = reason ?? onnxUnavailable;
      return { pass, engine: passEngine, ...(why !== undefined ? { reason: why } : {}) };
    }),
  );
  const modelAdmin = new ModelAdminService(database, registry, pool, runService, log);
  await modelAdmin.seedDefault(config.defaultModelId);
  const sampleService = new SampleService(database, registry, pool, runService, config.maxSamplesPerRequest, new SamplePngCache(config.http.imageCacheBytes));
  const latentService = new LatentService(registry, sampleService, runService);
  const classifyService = new ClassifyService(registry, pool, runService, config.maxSamplesPerRequest);
  const systemService = new SystemService(config, backend, engine, database.provider, pool, VERSION);
  const scorers = ScorerCatalog.load(config.scorersDir, (folder, reason) => log.error('scorer not loaded', { folder, reason }));
  log.info('scorers found', { scorersDir: config.scorersDir, scorers: scorers.list().map((s) => s.name) });
  const datasets = new DatasetCache();
  const evaluationGauges = createEvaluationGauges(metricsRegistry);
  const evaluationService = new EvaluationService(database, registry, pool, runService, scorers, datasets, evaluationGauges, computeMetricsInWorker, log);
  await evaluationService.primeGauges();
  const analysisData = new AnalysisData(datasets);
  const featureAnalysisService = new FeatureAnalysisService(registry, pool, runService, analysisData, evaluateClassifiersInWorker);
  const conceptFilterService = new ConceptFilterService(registry, pool, runService, analysisData, scorers, datasets, findConceptFiltersInWorker);
  const nearestNeighbourService = new NearestNeighbourService(registry, sampleService, datasets, runService);
  const trainingJobService = new TrainingJobService({
    config: config.training,
    modelsDir: config.modelsDir,
    backend: backend.name,
    store: trainingStore,
    registry,
    pool,
    runs: runService,
    log,
    queue: trainingQueue,
    replicaId: replica.id,
    replicaTimeoutMs: config.replica.timeoutMs,
    scorers,
    scorersDir: config.scorersDir,
  });

  const apiKeys = new ApiKeyService(database.prisma);
  const anonymousPolicy = { loopbackScopes: config.auth.anonymousLoopbackScopes, remoteScopes: config.auth.anonymousRemoteScopes };
  const schema = await buildGanqlSchema(
    new Map<ClassType, object>([
      [ModelResolver, new ModelResolver(modelService, runService, modelAdmin)],
      [ModelEvaluationResolver, new ModelEvaluationResolver(evaluationService)],
      [SampleResolver, new SampleResolver(sampleService)],
      [ClassifyResolver, new ClassifyResolver(classifyService)],
      [LatentResolver, new LatentResolver(latentService)],
      [EvaluationResolver, new EvaluationResolver(evaluationService, nearestNeighbourService)],
      [RunResolver, new RunResolver(runService)],
      [ServerInfoResolver, new ServerInfoResolver(systemService)],
      [TrainingResolver, new TrainingResolver(trainingJobService)],
      [FeaturesResolver, new FeaturesResolver(featureAnalysisService, conceptFilterService)],
      [ImageResolver, new ImageResolver(sampleImageUrl(config.http.publicUrl))],
    ]),
    createAuthChecker(log, (reason) => metrics.onAuthRefused(reason)),
  );

  const app = express();
  app.disable('x-powered-by');
  app.use(requestIdMiddleware(log));
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: true,
    // main.ts stops the whole of ganql on SIGTERM/SIGINT; Apollo's own handler (on outside NODE_ENV=test)
    // would stop only itself and then re-raise the signal, killing the process mid-shutdown.
    stopOnTerminationSignals: false,
    formatError: createFormatError(log),
    validationRules: [queryShapeLimitsRule(config.queryLimits)],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      recordRejectedRequests(runService, log),
      queryCostLimits(config.queryLimits, config.maxSamplesPerRequest),
    ],
  });
  await apollo.start();
  // graphql-ws on the same port and path, for trainingProgress.
  const subscriptions = createSubscriptionServer({
    httpServer,
    path: '/graphql',
    schema,
    validationRules: [queryShapeLimitsRule(config.queryLimits)],
    authenticate: (request, connectionParams) => {
      const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
      const key = typeof fromParams === 'string' ? presentedKey({ authorization: fromParams }) : presentedKey(request.headers);
      return resolvePrincipal(key, request.socket.remoteAddress, { apiKeys, anonymous: anonymousPolicy });
    },
    onRefused: (error) => {
      log.warn('subscription refused: bad API key', { reason: error instanceof Error ? error.message : String(error) });
      metrics.onAuthRefused('unauthenticated');
    },
    context: (_request, _params, principal) => ({ ...createContext(runService, principal), trainingJobs: trainingJobService }),
    formatError: createFormatError(log),
  });
  await trainingJobService.resume(recoveredJobs);
  await trainingJobService.startQueue();
  // Replicas: every heartbeat takes over the work of replicas that stopped beating.
  const sweep = async (): Promise<void> => {
    const live = await replica.liveIds();
    await trainingJobService.sweep(live);
    const closed = await runService.closeInterrupted('the replica running this run stopped', [], live);
    if (closed > 0) log.warn('closed runs left RUNNING by a stopped replica', { closed });
    await replica.forgetDead();
  };
  if (trainingQueue.shared) await sweep();
  replica.start(trainingQueue.shared ? sweep : undefined);
  // Replicas: aliases and archive marks other replicas set apply here within a poll (SQLite: one process, every change is made here).
  if (database.provider === 'postgresql') modelAdmin.start(config.modelStatePollMs);

  let accepting = true;
  const auth = authMiddleware({
    apiKeys,
    anonymous: anonymousPolicy,
    keyRateLimit: { ratePerSecond: config.auth.keyRatePerSecond, burst: config.auth.keyRateBurst },
    // PostgreSQL: one bucket per key for all replicas; SQLite: one process, in memory.
    limiter: database.provider === 'postgresql' ? new DatabaseRateLimiter(database) : new RateLimiter(),
    log,
    onRefused: (reason) => metrics.onAuthRefused(reason),
  });
  const scoped = (scope: Scope, route: string) => scopeMiddleware(scope, route, { log, onRefused: (reason) => metrics.onAuthRefused(reason) });
  // The routes a page of another origin may call; preflights are answered here, before admission and auth.
  const cors = corsMiddleware(config.http.corsOrigins);
  app.use('/healthz', cors);
  app.get('/healthz', healthHandler({ accepting: () => accepting, databaseOk: () => database.ping(), modelCount: () => registry.size, backend: engine }));
  const { metricsScope } = config.http;
  if (metricsScope === undefined) app.get('/metrics', metrics.handler);
  else app.get('/metrics', auth, scoped(metricsScope, 'GET /metrics'), metrics.handler);
  app.use(
    '/graphql',
    cors,
    admission.middleware,
    auth,
    express.json({ limit: BODY_LIMIT }),
    rejectMalformedText,
    rejectDeepDocuments(),
    // authMiddleware always sets res.locals.principal before this runs (it answers the request itself otherwise).
    expressMiddleware(apollo, { context: async ({ res }) => createContext(runService, res.locals.principal as Principal) }),
  );
  app.use(
    IMAGES_PATH,
    cors,
    admission.middleware,
    auth,
    scoped('sample', `GET ${IMAGES_PATH}`),
    imagesRouter({ png: (id) => sampleService.png(id), log, onServed: (result) => metrics.onImageServed(result) }),
  );
  app.use(explorerRouter('/graphql'));
  app.use(studioRouter('/studio'));
  app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    if (status >= 500) log.error('http error', { error: String(err) });
    const message = status === 413 ? `request body larger than ${BODY_LIMIT}` : status < 500 ? 'malformed request body' : 'internal server error';
    res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_SERVER_ERROR } }] });
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    backend,
    engine,
    database,
    httpServer,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => resolve(httpServer.address() as AddressInfo));
      }),
    stop: () =>
      (stopping ??= (async () => {
        accepting = false;
        const drained = apollo.stop();
        // Awaited below; a handler now keeps an early failure from counting as unhandled meanwhile.
        drained.catch(() => undefined);
        // Training jobs stop after their current step (checkpointed, to resume on the next start) and
        // their subscribers get the END event; then the sockets close, which the HTTP server's close waits for.
        await trainingJobService.stop();
        await subscriptions.close();
        await drained;
        // Background jobs (evaluations) stop at their next step, recorded INTERRUPTED, before the pool closes under them.
        await runService.interruptJobs('the server stopped while this run was in progress');
        await modelAdmin.stop();
        await pool.close();
        registry.dispose();
        await evaluationService.dispose();
        await replica.stop().catch((error: unknown) => log.warn("could not remove this replica's row", { error: String(error) }));
        await database.close();
      })()),
  };
}

/**
 * ONNX Runtime for generate and classify when the configuration asks for it and it loads, on the
 * providers asked for that work here (CUDA falls back to the CPU provider); otherwise tfjs serves
 * them, and `unavailable` says why ONNX Runtime was asked for and is not there. Logged either way.
 */
async function onnxServing(config: OnnxConfig, log: Logger, load: () => OnnxRuntimeLoad): Promise<{ serving?: OnnxServing; unavailable?: string }> {
  if (!config.enabled) return {};
  const loaded = load();
  if (!loaded.ok) {
    log.warn('onnxruntime not loaded; generate and classify run on tfjs', { reason: loaded.reason });
    return { unavailable: loaded.reason };
  }
  const { providers, note } = await usableProviders(loaded.runtime, config.providers);
  if (note !== undefined) log.warn('onnxruntime execution provider not available; falling back', { asked: config.providers, using: providers, reason: note });
  const engine = providers[0] === 'cuda' ? ONNX_CUDA_ENGINE : ONNX_ENGINE;
  log.info('onnxruntime loaded', { version: loaded.version, threads: config.threads, providers, engine });
  return { serving: { runtime: loaded.runtime, threads: config.threads, providers, engine, ...(note !== undefined ? { providerNote: note } : {}) } };
}
