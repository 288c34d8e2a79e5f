import path from 'node:path';
import { runOnceInWorker } from '../workers/one-shot-worker';
import { evaluateLinearClassifier, type ClassifierEvaluation, type ClassifierEvaluationInput } from './classifier-evaluation';

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
export const evaluateClassifiersInWorker: ClassifierRunner = (inputs) => {
  const buffers = new Set<ArrayBuffer>();
  for (const input of inputs) {
    for (const part of [input.train.features, input.train.labels, input.test.features, input.test.labels]) {
      if (part.buffer instanceof ArrayBuffer && part.byteOffset === 0 && part.byteLength === part.buffer.byteLength) buffers.add(part.buffer);
    }
  }
  return runOnceInWorker<ClassifierEvaluationInput[], ClassifierEvaluation[]>(path.join(__dirname, 'worker', 'classifier.worker'), inputs, {
    label: 'classifier worker',
    transfer: [...buffers],
  });
};
