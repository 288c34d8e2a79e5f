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
  /**
   * Also register prom-client's process metrics (RSS, CPU, event-loop lag, GC, heap) on the registry,
   * under their standard unprefixed names so stock Node.js dashboards read them. @default true
   */
  processMetrics?: boolean;
}

export interface GanqlMetrics {
  /** Pass to `new InferencePool(executor, options, listener)`. */
  poolListener: PoolListener;
  /** Express handler for GET /metrics (Prometheus text exposition format). */
  handler: (req: Request, res: Response) => Promise<void>;
}

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
  const { registry, poolStats, backend } = options;
  const registers = [registry];

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
    help: 'Items per forward pass the pool dispatched, by model.',
    labelNames: ['model'] as const,
    buckets: BATCH_SIZE_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'ganql_inference_queue_wait_seconds',
    help: 'Longest time an item of a batch waited in the queue before its forward pass started, by model.',
    labelNames: ['model'] as const,
    buckets: QUEUE_WAIT_BUCKETS,
    registers,
  });
  const compute = new Histogram({
    name: 'ganql_inference_compute_seconds',
    help: 'Duration of one batched forward pass, failed ones included, by model.',
    labelNames: ['model'] as const,
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
        const labels = { model: event.modelId };
        batchSize.observe(labels, event.size);
        queueWait.observe(labels, event.queueWaitMs / 1000);
        compute.observe(labels, event.computeMs / 1000);
      },
      onRequest(outcome) {
        requests.inc({ outcome });
      },
    },
    async handler(_req, res) {
      // A rejection here reaches express 5's error handler, which logs it and answers 500.
      const text = await registry.metrics();
      res.setHeader('Content-Type', registry.contentType);
      res.end(text);
    },
  };
}
