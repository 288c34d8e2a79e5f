import { parentPort, Worker } from 'node:worker_threads';
import { workerLaunch } from './worker-script';

/** What a one-shot worker answers: its output, or why it could not compute it. */
export type OneShotReply<O> = { ok: true; output: O } | { ok: false; message: string; stack?: string };

/**
 * Worker side: answers the one message the parent posts with `compute(input)`, or with the error.
 * The parent ends the thread after the reply.
 */
export function answerOnce<I, O>(compute: (input: I) => O): void {
  parentPort?.once('message', (input: I) => {
    let reply: OneShotReply<O>;
    try {
      reply = { ok: true, output: compute(input) };
    } catch (error) {
      reply = error instanceof Error ? { ok: false, message: error.message, stack: error.stack } : { ok: false, message: String(error) };
    }
    parentPort?.postMessage(reply);
  });
}

export interface OneShotOptions {
  /** Names the worker in errors ("metrics worker: ..."). */
  label: string;
  /** Buffers moved to the worker instead of copied. */
  transfer?: ArrayBuffer[];
  /** Terminates the worker at once and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Main side: starts a worker thread on `entry` (see workerLaunch) for one computation, posts `input`,
 * resolves with its output and ends the thread. A synchronous computation of seconds (KID subsets, a
 * linear classifier's cross-validation) runs there instead of stalling every request on the event loop.
 */
export function runOnceInWorker<I, O>(entryWithoutExtension: string, input: I, options: OneShotOptions): Promise<O> {
  const { label, transfer = [], signal } = options;
  // abort() without a reason gives a DOMException, an Error already; any other non-Error reason is wrapped.
  const abortError = (reason: unknown): Error => (reason instanceof Error ? reason : new Error(`${label}: aborted`, { cause: reason }));
  return new Promise<O>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal.reason));
      return;
    }
    const { script, entry, execArgv } = workerLaunch(entryWithoutExtension);
    const worker = new Worker(script, { workerData: { entry }, execArgv });
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      finish();
    };
    const onAbort = (): void => settle(() => reject(abortError(signal?.reason)));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: OneShotReply<O>) =>
      settle(() => {
        if (reply.ok) resolve(reply.output);
        else reject(Object.assign(new Error(`${label}: ${reply.message}`), { stack: reply.stack }));
      }),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`${label}: exited with code ${code} before answering`))));
    worker.postMessage(input, transfer);
  });
}
