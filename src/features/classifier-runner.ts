import path from 'node:path';
import { runOnceInWorker } from '../workers/one-shot-worker';
import { evaluateLinearClassifier, type ClassifierEvaluation, type ClassifierEvaluationInput } from './classifier-evaluation';
import { conceptFilters, type ConceptAssociation } from './concept-filters';

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

/** What conceptFilters needs: each sample's filter activations, whether the scorer called it the concept, how many filters. */
export interface ConceptFilterInput {
  activations: Float32Array[];
  isConcept: boolean[];
  count: number;
  seed: number;
}

/** Finds the generator filters most associated with a concept (conceptFilters). */
export type ConceptFilterRunner = (input: ConceptFilterInput) => Promise<ConceptAssociation>;

/** On the calling thread (scripts, tests of the math). */
export const findConceptFiltersInThread: ConceptFilterRunner = async (input) =>
  conceptFilters(input.activations, input.isConcept, input.count, { seed: input.seed });

/**
 * On a worker thread started for this request: the cross-validated fit takes ~0.5 s on 500 samples
 * of 64 filters and ~3 s on 2,000, which would stall every request on the event loop.
 */
export const findConceptFiltersInWorker: ConceptFilterRunner = (input) =>
  runOnceInWorker<ConceptFilterInput, ConceptAssociation>(path.join(__dirname, 'worker', 'concept-filters.worker'), input, { label: 'concept filters worker' });
