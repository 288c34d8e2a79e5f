import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { computeMetrics, type MetricsInput, type MetricsOutput } from './compute-metrics';
import type { MetricsReply } from './worker/metrics.worker';

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
  new Promise<MetricsOutput>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const { script, entry } = workerFiles();
    const worker = new Worker(script, { workerData: { entry } });
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      finish();
    };
    const onAbort = (): void => settle(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: MetricsReply) =>
      settle(() => {
        if (reply.ok) resolve(reply.output);
        else reject(Object.assign(new Error(`metrics worker: ${reply.message}`), { stack: reply.stack }));
      }),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`metrics worker: exited with code ${code} before answering`))));
    worker.postMessage(input);
  });

/**
 * What the worker runs: from TypeScript sources (tsx, vitest) a CommonJS bootstrap that registers
 * tsx and then requires the .ts entry; from compiled JavaScript the entry itself.
 */
function workerFiles(): { script: string; entry: string } {
  const entry = path.join(__dirname, 'worker', `metrics.worker${path.extname(__filename)}`);
  return { script: entry.endsWith('.ts') ? path.join(__dirname, 'worker', 'bootstrap.cjs') : entry, entry };
}
