import type { Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolListener, PoolStats, RequestOutcome } from '../inference/pool';

export interface MetricsOptions {
  /** Where every metric is registered; one per server, never prom-client's global default. */
  registry: Registry;
  /** Read at each scrape for the queue depth; lazy, so it may close over a pool built afterwards. */
  poolStats: () => PoolStats;
  /** The tfjs backend in use, exported as ganql_backend_info{backend}. */
  backend: string;
  /** Read at each scrape: API requests (/graphql, /images) in progress and waiting for admission (src/server/admission.ts). */
  admissionStats?: () => { active: number; waiting: number };
  /** Read at each scrape: sample PNGs held in memory for GET /images (src/samples/sample-png.cache.ts). */
  imageCacheStats?: () => { entries: number; bytes: number };
  /**
   * Also register prom-client's process metrics (RSS, CPU, event-loop lag, GC, heap) on the registry,
   * under their standard unprefixed names so stock Node.js dashboards read them. @default true
   */
  processMetrics?: boolean;
}

export interface GanqlMetrics {
  /** Pass to `new InferencePool(executor, options, listener)`. */
  poolListener: PoolListener;
  /** Count a request refused by admission control (HTTP 503, OVERLOADED). */
  onAdmissionRejected(): void;
  /** Count a request refused by auth: no or bad key (401), missing scope (FORBIDDEN), or over its rate (429). */
  onAuthRefused(reason: AuthRefusal): void;
  /** Count an answer of GET /images/<id>.png (200 or 304 alike) by where the image came from, or why there was none. */
  onImageServed(result: ImageResult): void;
  /** Express handler for GET /metrics (Prometheus text exposition format). */
  handler: (req: Request, res: Response) => Promise<void>;
}

export type AuthRefusal = 'unauthenticated' | 'forbidden' | 'rate_limited';
const AUTH_REFUSALS: readonly AuthRefusal[] = ['unauthenticated', 'forbidden', 'rate_limited'];

export type ImageResult = 'cached' | 'regenerated' | 'not_found' | 'failed';
const IMAGE_RESULTS: readonly ImageResult[] = ['cached', 'regenerated', 'not_found', 'failed'];

/** Every outcome the pool reports; each starts at 0 so a rate() over it never misses a series. */
const OUTCOMES: readonly RequestOutcome[] = ['ok', 'overloaded', 'timeout', 'error', 'unavailable'];

/** 1, 2, 4, ..., 256: a batch never exceeds the largest GANQL_MAX_BATCH_SIZE worth serving. */
const BATCH_SIZE_BUCKETS = Array.from({ length: 9 }, (_, i) => 2 ** i);

/** From under the 5 ms default batching delay to a saturated queue near the 30 s timeout. */
const QUEUE_WAIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** From a b=1 forward pass (a few ms) to b=256 on a slow backend (seconds). */
const COMPUTE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus metrics of one ganql process: the inference pool (queue depth, batch sizes, queue wait,
 * compute time, requests by outcome), the backend in use, and the process itself.
 */
export function createMetrics(options: MetricsOptions): GanqlMetrics {
  const { registry, poolStats, backend, admissionStats, imageCacheStats } = options;
  const registers = [registry];

  new Gauge({
    name: 'ganql_http_requests_in_progress',
    help: 'API requests (/graphql, /images) admitted and not finished (at most GANQL_MAX_CONCURRENT_REQUESTS).',
    registers,
    collect() {
      this.set(admissionStats?.().active ?? 0);
    },
  });
  new Gauge({
    name: 'ganql_http_requests_waiting',
    help: 'API requests (/graphql, /images) waiting for admission (at most GANQL_MAX_WAITING_REQUESTS).',
    registers,
    collect() {
      this.set(admissionStats?.().waiting ?? 0);
    },
  });
  const admissionRejected = new Counter({
    name: 'ganql_http_requests_rejected_total',
    help: 'API requests (/graphql, /images) refused at once with OVERLOADED because too many were waiting.',
    registers,
  });

  const authRefused = new Counter({
    name: 'ganql_auth_refusals_total',
    help: 'Requests refused by auth, by reason: unauthenticated (no, malformed, unknown or revoked key), forbidden (key lacks the scope), rate_limited.',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of AUTH_REFUSALS) authRefused.inc({ reason }, 0);

  const imageRequests = new Counter({
    name: 'ganql_image_requests_total',
    help: 'GET /images/<sample id>.png answered (200 or 304), by result: cached (from memory), regenerated (through the pool, recorded as a REGENERATE run), not_found, failed (overloaded, timeout or internal).',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of IMAGE_RESULTS) imageRequests.inc({ result }, 0);
  new Gauge({
    name: 'ganql_image_cache_bytes',
    help: 'PNG bytes of samples held in memory for GET /images (at most GANQL_IMAGE_CACHE_BYTES).',
    registers,
    collect() {
      this.set(imageCacheStats?.().bytes ?? 0);
    },
  });
  new Gauge({
    name: 'ganql_image_cache_entries',
    help: 'Sample PNGs held in memory for GET /images.',
    registers,
    collect() {
      this.set(imageCacheStats?.().entries ?? 0);
    },
  });

  new Gauge({
    name: 'ganql_inference_queue_items',
    help: 'Items admitted to the inference pool and not yet finished (waiting or computing).',
    registers,
    collect() {
      this.set(poolStats().queued);
    },
  });
  new Gauge({
    name: 'ganql_inference_tensors',
    help: 'Live tensors on the inference backend(s), summed over workers; growth over time means a leak.',
    registers,
    collect() {
      this.set(poolStats().tensors);
    },
  });
  const batchSize = new Histogram({
    name: 'ganql_inference_batch_size',
    help: 'Items per forward pass the pool dispatched, by model and pass (generate; classify; layer: a feature analysis reading a layer; stimulus: an optimal-stimulus search).',
    labelNames: ['model', 'pass'] as const,
    buckets: BATCH_SIZE_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'ganql_inference_queue_wait_seconds',
    help: 'Longest time an item of a batch waited in the queue before its forward pass started, by model and pass (generate; classify; layer: a feature analysis reading a layer; stimulus: an optimal-stimulus search).',
    labelNames: ['model', 'pass'] as const,
    buckets: QUEUE_WAIT_BUCKETS,
    registers,
  });
  const compute = new Histogram({
    name: 'ganql_inference_compute_seconds',
    help: 'Duration of one batched forward pass, failed ones included, by model and pass (generate; classify; layer: a feature analysis reading a layer; stimulus: an optimal-stimulus search).',
    labelNames: ['model', 'pass'] as const,
    buckets: COMPUTE_BUCKETS,
    registers,
  });
  const requests = new Counter({
    name: 'ganql_inference_requests_total',
    help: 'Requests to the inference pool by outcome: ok, overloaded (queue full), timeout, error, unavailable (shutting down).',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of OUTCOMES) requests.inc({ outcome }, 0);
  new Gauge({
    name: 'ganql_backend_info',
    help: 'The tfjs backend this process computes on (always 1; the backend is the label).',
    labelNames: ['backend'] as const,
    registers,
  }).set({ backend }, 1);

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    poolListener: {
      onBatch(event) {
        const labels = { model: event.modelId, pass: event.pass };
        batchSize.observe(labels, event.size);
        queueWait.observe(labels, event.queueWaitMs / 1000);
        compute.observe(labels, event.computeMs / 1000);
      },
      onRequest(outcome) {
        requests.inc({ outcome });
      },
    },
    onAdmissionRejected() {
      admissionRejected.inc();
    },
    onAuthRefused(reason) {
      authRefused.inc({ reason });
    },
    onImageServed(result) {
      imageRequests.inc({ result });
    },
    async handler(_req, res) {
      // A rejection here reaches express 5's error handler, which logs it and answers 500.
      const text = await registry.metrics();
      res.setHeader('Content-Type', registry.contentType);
      res.end(text);
    },
  };
}

/** The latest values of one evaluation, as the gauges export them (absent: not computed). */
export interface EvaluationSnapshot {
  modelId: string;
  scorer: string;
  isMean?: number | null;
  fid?: number | null;
  kidMean?: number | null;
  parzenMean?: number | null;
  at: Date;
}

export interface EvaluationGauges {
  /** Sets the gauges of the snapshot's model (and scorer) to its values. */
  record(snapshot: EvaluationSnapshot): void;
}

/**
 * Gauges of the latest evaluation results per model version and scorer, for dashboards and alerts
 * (e.g. on FID rising for a new version). Parzen is computed in pixel space, so it has no scorer label.
 */
export function createEvaluationGauges(registry: Registry): EvaluationGauges {
  const registers = [registry];
  const labelNames = ['model', 'scorer'] as const;
  const inceptionScore = new Gauge({
    name: 'ganql_evaluation_inception_score',
    help: 'Inception Score (mean over splits) of the latest evaluation of a model under a scorer; higher is better.',
    labelNames,
    registers,
  });
  const fid = new Gauge({
    name: 'ganql_evaluation_fid',
    help: "Frechet distance of the latest evaluation's scorer features to the training split's; lower is better.",
    labelNames,
    registers,
  });
  const kid = new Gauge({
    name: 'ganql_evaluation_kid',
    help: 'Kernel Inception Distance (mean over subsets) of the latest evaluation to the training split; lower is better.',
    labelNames,
    registers,
  });
  const parzen = new Gauge({
    name: 'ganql_evaluation_parzen_log_likelihood',
    help: 'Parzen-window log-likelihood (nats per test image, pixels in [0, 1]) of the latest evaluation of a model; higher is better.',
    labelNames: ['model'] as const,
    registers,
  });
  const timestamp = new Gauge({
    name: 'ganql_evaluation_timestamp_seconds',
    help: 'Unix time of the latest evaluation of a model under a scorer.',
    labelNames,
    registers,
  });
  const set = (gauge: Gauge<'model' | 'scorer'>, labels: { model: string; scorer: string }, value: number | null | undefined): void => {
    if (value !== undefined && value !== null) gauge.set(labels, value);
  };
  return {
    record(s) {
      const labels = { model: s.modelId, scorer: s.scorer };
      set(inceptionScore, labels, s.isMean);
      set(fid, labels, s.fid);
      set(kid, labels, s.kidMean);
      if (s.parzenMean !== undefined && s.parzenMean !== null) parzen.set({ model: s.modelId }, s.parzenMean);
      timestamp.set(labels, s.at.getTime() / 1000);
    },
  };
}
