import { fitLinearClassifier, type LinearClassifierOptions } from './linear-classifier';

export interface ConceptFilter {
  filter: number;
  /** The filter's weight in the concept-vs-rest linear classifier, on standardised activations. */
  weight: number;
}

export interface ConceptAssociation {
  /** Filters with a positive weight (associated with the concept), largest weight first, at most `count`. */
  filters: ConceptFilter[];
  /** How many filters had a positive weight in all. */
  positive: number;
  /** The regularisation C the classifier used (chosen by cross-validation). */
  c: number;
}

/**
 * The generator feature maps most associated with a concept, as in DCGAN's filter removal
 * (Radford et al. 2015, sec 6.3.1: a logistic regression predicting "window" from the feature
 * maps' activations; the maps with positive weights were dropped). Here a binary linear classifier
 * (the L2-SVM of linear-classifier.ts, standardised inputs, C by cross-validation) predicts
 * `isConcept[i]` from `activations[i]` (one value per filter, e.g. its spatial mean, for sample
 * i); filters are ranked by weight. Needs both labels present.
 */
export function conceptFilters(
  activations: readonly ArrayLike<number>[],
  isConcept: ArrayLike<boolean>,
  count: number,
  options: Pick<LinearClassifierOptions, 'seed' | 'cCandidates' | 'folds'>,
): ConceptAssociation {
  if (!Number.isInteger(count) || count < 1) throw new Error(`conceptFilters: expected count a positive integer, got ${count}`);
  const labels = Array.from({ length: isConcept.length }, (_, i) => (isConcept[i] ? 1 : 0));
  const positives = labels.reduce((a: number, b) => a + b, 0);
  if (positives === 0 || positives === labels.length) {
    throw new Error(`conceptFilters: expected samples both of the concept and not, got ${positives} of ${labels.length} of the concept`);
  }
  const model = fitLinearClassifier(activations, labels, 2, options);
  // Class 1 (the concept) against the rest; the bias is the last weight.
  const w = model.weights[1];
  const ranked: ConceptFilter[] = [];
  for (let j = 0; j < w.length - 1; j++) if (w[j] > 0) ranked.push({ filter: j, weight: w[j] });
  ranked.sort((a, b) => b.weight - a.weight || a.filter - b.filter);
  return { filters: ranked.slice(0, count), positive: ranked.length, c: model.c };
}
