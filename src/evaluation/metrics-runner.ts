import path from 'node:path';
import { runOnceInWorker } from '../workers/one-shot-worker';
import { computeMetrics, type MetricsInput, type MetricsOutput } from './compute-metrics';

/** Computes the metrics of one evaluation; `signal` abandons the computation. */
export type MetricsRunner = (input: MetricsInput, signal?: AbortSignal) => Promise<MetricsOutput>;

/** On the calling thread: for the CLI, where nothing else waits on the event loop. */
export const computeMetricsInThread: MetricsRunner = async (input, signal) => {
  signal?.throwIfAborted();
  return computeMetrics(input);
};

/**
 * On a worker thread of its own, started for this computation and ended after it: KID's subsets
 * (~0.2-0.3 s each at 1,000 rows) and Parzen's distance passes are single synchronous steps that
 * would otherwise stall every request on the server's event loop for the seconds they take. The
 * input is copied to the worker (structured clone, ~40 MB at 10,000 images: tens of ms); an abort
 * terminates the worker at once.
 */
export const computeMetricsInWorker: MetricsRunner = (input, signal) =>
  runOnceInWorker<MetricsInput, MetricsOutput>(path.join(__dirname, 'worker', 'metrics.worker'), input, { label: 'metrics worker', signal });
