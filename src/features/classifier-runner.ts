import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { evaluateLinearClassifier, type ClassifierEvaluation, type ClassifierEvaluationInput } from './classifier-evaluation';
import type { ClassifierReply } from './worker/classifier.worker';

/** Fits and scores linear classifiers, one per input, in input order. */
export type ClassifierRunner = (inputs: ClassifierEvaluationInput[]) => Promise<ClassifierEvaluation[]>;

/** On the calling thread (scripts, tests of the math). */
export const evaluateClassifiersInThread: ClassifierRunner = async (inputs) => inputs.map(evaluateLinearClassifier);

/**
 * On a worker thread started for this request and ended after it (as metrics-runner.ts does for the
 * evaluation metrics): a fit on 100 examples of ~3,000 features with its cross-validation takes
 * ~0.1-0.2 s, on 1,000 examples seconds, all synchronous, which would stall every request on the
 * server's event loop. Feature buffers are transferred, not copied.
 */
export const evaluateClassifiersInWorker: ClassifierRunner = (inputs) =>
  new Promise<ClassifierEvaluation[]>((resolve, reject) => {
    const { script, entry } = workerFiles();
    const worker = new Worker(script, { workerData: { entry } });
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      finish();
    };
    worker.once('message', (reply: ClassifierReply) =>
      settle(() => {
        if (reply.ok) resolve(reply.output);
        else reject(Object.assign(new Error(`classifier worker: ${reply.message}`), { stack: reply.stack }));
      }),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`classifier worker: exited with code ${code} before answering`))));
    const buffers = new Set<ArrayBuffer>();
    for (const input of inputs) {
      for (const part of [input.train.features, input.train.labels, input.test.features, input.test.labels]) {
        if (part.buffer instanceof ArrayBuffer && part.byteOffset === 0 && part.byteLength === part.buffer.byteLength) buffers.add(part.buffer);
      }
    }
    worker.postMessage(inputs, [...buffers]);
  });

/**
 * What the worker runs: from TypeScript sources (tsx, vitest) the evaluation's CommonJS bootstrap,
 * which registers tsx and then requires the .ts entry; from compiled JavaScript the entry itself.
 */
function workerFiles(): { script: string; entry: string } {
  const entry = path.join(__dirname, 'worker', `classifier.worker${path.extname(__filename)}`);
  return { script: entry.endsWith('.ts') ? path.join(__dirname, '..', 'evaluation', 'worker', 'bootstrap.cjs') : entry, entry };
}
