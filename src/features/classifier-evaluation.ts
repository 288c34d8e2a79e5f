import { classifierAccuracy, fitLinearClassifier } from './linear-classifier';

/** A labelled set as rows of one buffer: `count` rows of `width` features each. */
export interface LabelledRows {
  features: Float32Array;
  width: number;
  labels: Uint8Array;
}

export interface ClassifierEvaluationInput {
  train: LabelledRows;
  test: LabelledRows;
  classes: number;
  seed: number;
}

export interface ClassifierEvaluation {
  /** Fraction of the test rows classified correctly. */
  accuracy: number;
  /** The regularisation C cross-validation chose, and each candidate's cross-validation accuracy. */
  c: number;
  crossValidation: { c: number; accuracy: number }[];
  features: number;
  trainCount: number;
  testCount: number;
}

function rows(set: LabelledRows): Float32Array[] {
  const count = set.labels.length;
  if (set.features.length !== count * set.width) {
    throw new Error(`evaluateLinearClassifier: expected ${count} x ${set.width} features, got ${set.features.length} values`);
  }
  return Array.from({ length: count }, (_, i) => set.features.subarray(i * set.width, (i + 1) * set.width));
}

/** Fits the linear classifier (linear-classifier.ts) on `train` and scores it on `test`. */
export function evaluateLinearClassifier(input: ClassifierEvaluationInput): ClassifierEvaluation {
  if (input.train.width !== input.test.width)
    throw new Error(`evaluateLinearClassifier: expected train and test of one width, got ${input.train.width} and ${input.test.width}`);
  const model = fitLinearClassifier(rows(input.train), input.train.labels, input.classes, { seed: input.seed });
  return {
    accuracy: classifierAccuracy(model, rows(input.test), input.test.labels),
    c: model.c,
    crossValidation: model.crossValidation,
    features: input.train.width,
    trainCount: input.train.labels.length,
    testCount: input.test.labels.length,
  };
}
