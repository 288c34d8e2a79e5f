import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { Registry } from 'prom-client';
import { initBackend, type BackendInfo } from '../backend/backend';
import type { Config } from '../config/config';
import { openDatabase, type Database } from '../db/database';
import { DatasetCache } from '../evaluation/dataset-cache';
import { EvaluationService } from '../evaluation/evaluation.service';
import { computeMetricsInWorker } from '../evaluation/metrics-runner';
import { NearestNeighbourService } from '../evaluation/nearest-neighbour.service';
import { ScorerCatalog } from '../evaluation/scorer-catalog';
import { createContext, type GraphqlContext } from '../graphql/context';
import { EvaluationResolver } from '../graphql/evaluation/evaluation.resolver';
import { LatentResolver } from '../graphql/latent/latent.resolver';
import { ModelResolver } from '../graphql/models/model.resolver';
import { RunResolver } from '../graphql/runs/run.resolver';
import { SampleResolver } from '../graphql/samples/sample.resolver';
import { buildGanqlSchema } from '../graphql/schema';
import { ServerInfoResolver } from '../graphql/server/server-info.resolver';
import { chooseExecutor } from '../inference/choose-executor';
import { InferencePool } from '../inference/pool';
import { LatentService } from '../latent/latent.service';
import type { Logger } from '../log/logger';
import { createEvaluationGauges, createMetrics } from '../metrics/metrics';
import { ModelRegistry } from '../models/model-registry';
import { ModelService } from '../models/model.service';
import { RunService } from '../runs/run.service';
import { SampleService } from '../samples/sample.service';
import { SystemService } from '../system/system.service';
import { createAdmission } from './admission';
import { explorerRouter } from './explorer';
import { createFormatError } from './format-error';
import { healthHandler } from './health';
import { queryCostLimits } from './query-limits/query-limits.plugin';
import { queryShapeLimitsRule } from './query-limits/query-limits.rule';
import { recordRejectedRequests } from './record-rejected.plugin';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- read at run time so dist/ needs no copy
const VERSION: string = (require('../../package.json') as { version: string }).version;

/** Largest request body accepted (explicit latents are the biggest legitimate input). */
const BODY_LIMIT = '5mb';

/** A running ganql: everything a test or main() needs to use it and to stop it. */
export interface Ganql {
  config: Config;
  backend: BackendInfo;
  database: Database;
  httpServer: http.Server;
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** Stops intake, drains requests, interrupts background jobs, drains the pool, closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** Builds and starts every piece of ganql except the listening socket. */
export async function createGanql(config: Config, log: Logger): Promise<Ganql> {
  const backend = await initBackend({ order: config.backendOrder, log: (m) => log.info(m) });
  log.info('backend chosen', { backend: backend.name, customKernels: backend.customKernels });

  const database = openDatabase(config.databaseUrl);
  const migrations = await database.migrate((m) => log.info(m));
  log.info('database ready', { provider: database.provider, applied: migrations.applied });

  const runService = new RunService(database, backend.name, log);
  const interrupted = await runService.closeInterrupted('the process stopped while this run was in progress');
  if (interrupted > 0) log.warn('closed runs left RUNNING by a previous process', { interrupted });

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
    backend: backend.name,
    poolStats: () => pool.stats(),
    admissionStats: () => admission.stats(),
  });
  const executor = await chooseExecutor({ backend: backend.name, workers: config.inferenceWorkers, registry, modelsDir: config.modelsDir, log });
  const pool = new InferencePool(executor, config.pool, metrics.poolListener);
  const modelService = new ModelService(registry, backend.name);
  const sampleService = new SampleService(database, registry, pool, runService, backend.name, config.maxSamplesPerRequest);
  const latentService = new LatentService(registry, sampleService, runService);
  const systemService = new SystemService(config, backend, database.provider, pool, VERSION);
  const scorers = ScorerCatalog.load(config.scorersDir, (folder, reason) => log.error('scorer not loaded', { folder, reason }));
  log.info('scorers found', { scorersDir: config.scorersDir, scorers: scorers.list().map((s) => s.name) });
  const datasets = new DatasetCache();
  const evaluationGauges = createEvaluationGauges(metricsRegistry);
  const evaluationService = new EvaluationService(database, registry, pool, runService, scorers, datasets, evaluationGauges, computeMetricsInWorker, log);
  await evaluationService.primeGauges();
  const nearestNeighbourService = new NearestNeighbourService(registry, sampleService, datasets, runService);

  const schema = await buildGanqlSchema(
    new Map<Function, object>([
      [ModelResolver, new ModelResolver(modelService, runService)],
      [SampleResolver, new SampleResolver(sampleService)],
      [LatentResolver, new LatentResolver(latentService)],
      [EvaluationResolver, new EvaluationResolver(evaluationService, nearestNeighbourService)],
      [RunResolver, new RunResolver(runService)],
      [ServerInfoResolver, new ServerInfoResolver(systemService)],
    ]),
  );

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: true,
    formatError: createFormatError(log),
    validationRules: [queryShapeLimitsRule(config.queryLimits)],
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), recordRejectedRequests(runService, log), queryCostLimits(config.queryLimits, config.maxSamplesPerRequest)],
  });
  await apollo.start();

  let accepting = true;
  app.get(
    '/healthz',
    healthHandler({ accepting: () => accepting, databaseOk: () => database.ping(), modelCount: () => registry.size, backend: backend.name }),
  );
  app.get('/metrics', metrics.handler);
  app.use('/graphql', admission.middleware, express.json({ limit: BODY_LIMIT }), expressMiddleware(apollo, { context: async () => createContext(runService) }));
  app.use(explorerRouter('/graphql'));
  app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    if (status >= 500) log.error('http error', { error: String(err) });
    const message = status === 413 ? `request body larger than ${BODY_LIMIT}` : status < 500 ? 'malformed request body' : 'internal server error';
    res.status(status).json({ errors: [{ message, extensions: { code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }] });
  });

  let stopping: Promise<void> | undefined;
  return {
    config,
    backend,
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
        await apollo.stop();
        // Background jobs (evaluations) stop at their next step, recorded INTERRUPTED, before the pool closes under them.
        await runService.interruptJobs('the server stopped while this run was in progress');
        await pool.close();
        registry.dispose();
        await evaluationService.dispose();
        await database.close();
      })()),
  };
}
