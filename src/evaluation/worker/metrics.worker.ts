import { parentPort } from 'node:worker_threads';
import { computeMetrics, type MetricsInput } from '../compute-metrics';

/** What the worker answers: the metrics, or why it could not compute them. */
export type MetricsReply = { ok: true; output: ReturnType<typeof computeMetrics> } | { ok: false; message: string; stack?: string };

// One computation per worker: the parent posts one MetricsInput, gets one reply, and ends the thread.
parentPort?.once('message', (input: MetricsInput) => {
  let reply: MetricsReply;
  try {
    reply = { ok: true, output: computeMetrics(input) };
  } catch (error) {
    reply = error instanceof Error ? { ok: false, message: error.message, stack: error.stack } : { ok: false, message: String(error) };
  }
  parentPort?.postMessage(reply);
});
