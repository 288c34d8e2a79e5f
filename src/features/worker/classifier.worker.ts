import { parentPort } from 'node:worker_threads';
import { evaluateLinearClassifier, type ClassifierEvaluation, type ClassifierEvaluationInput } from '../classifier-evaluation';

/** What the worker answers: one evaluation per input, or why it could not compute them. */
export type ClassifierReply = { ok: true; output: ClassifierEvaluation[] } | { ok: false; message: string; stack?: string };

// One request per worker: the parent posts the inputs, gets one reply, and ends the thread.
parentPort?.once('message', (inputs: ClassifierEvaluationInput[]) => {
  let reply: ClassifierReply;
  try {
    reply = { ok: true, output: inputs.map(evaluateLinearClassifier) };
  } catch (error) {
    reply = error instanceof Error ? { ok: false, message: error.message, stack: error.stack } : { ok: false, message: String(error) };
  }
  parentPort?.postMessage(reply);
});
