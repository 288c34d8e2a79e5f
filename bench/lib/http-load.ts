import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** What one worker does: `clients` loops, each sending one request after another. */
export interface HttpLoadJob {
  url: string;
  /** POSTed as JSON when set; otherwise GET. */
  body?: string;
  /** POSTed in turn instead of `body` (request n sends bodies[n % length]): a mix of operations. */
  bodies?: string[];
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** Success also needs a GraphQL body with data and no errors. */
  graphql: boolean;
  clients: number;
  /** Stop starting requests after this long (always bounded). */
  seconds: number;
  /** ... or after this many requests in all, whichever comes first. */
  requests?: number;
  /** Wait this long before the first request. */
  delayMs?: number;
  /** Start each client's requests at most this often (a probe); unset: back to back. */
  intervalMs?: number;
}

export interface HttpLoadResult {
  /** Latency of each successful request. */
  latenciesMs: Float64Array;
  /** When each successful request finished, from the worker's start. */
  completedAtMs: Float64Array;
  /** Failure reason -> count. */
  errors: Record<string, number>;
  /** From the start (after any delay) to the last reply, in-flight requests past the deadline included. */
  elapsedMs: number;
}

/** Runs `job` in a worker thread; `onStarted` fires once its clients are about to send. */
export function runHttpWorker(job: HttpLoadJob, onStarted: () => void = () => undefined): Promise<HttpLoadResult> {
  return new Promise((resolve, reject) => {
    // The worker is TypeScript: load tsx's CommonJS hook in it, as tsx does for the main thread.
    const worker = new Worker(path.join(__dirname, 'http-load.worker.ts'), { workerData: job, execArgv: ['--require', require.resolve('tsx/cjs')] });
    worker.on('message', (message: unknown) => {
      if (message === 'started') onStarted();
      else resolve(message as HttpLoadResult);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`http load worker exited with code ${code}`));
    });
  });
}

/** The q-quantile (0..1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function errorCount(result: HttpLoadResult): number {
  return Object.values(result.errors).reduce((a, b) => a + b, 0);
}

/** Successful requests per second that finished within the first `seconds` (not the drain after it). */
export function throughput(result: HttpLoadResult, seconds: number): number {
  return result.completedAtMs.filter((t) => t <= seconds * 1000).length / seconds;
}

/** Failures by their GraphQL error code or HTTP status ("BAD_USER_INPUT", "HTTP 503", "ECONNRESET ..."), from the worker's reasons. */
export function errorsByCode(result: HttpLoadResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [why, n] of Object.entries(result.errors)) {
    const code = why.startsWith('HTTP ') ? why.slice(0, why.indexOf(':') >= 0 ? why.indexOf(':') : why.length) : why.split(':')[0];
    out[code] = (out[code] ?? 0) + n;
  }
  return out;
}
