/** What a K+1 classifier says about one image (Salimans et al. 2016, sec 5). */
export interface KPlusOneReading {
  /** Index of the most probable of the K classes (the first on a tie). */
  labelIndex: number;
  /** p(y = label | x, y <= K): the label's probability among the K classes. */
  confidence: number;
  /** p(y = k | x) for each of the K classes: the K class entries of the K+1 softmax. */
  probabilities: number[];
  /** p(y = K+1 | x): the probability that the image is generated. */
  generatedProbability: number;
}

/**
 * Reads K logits (the (K+1)th, "generated", is fixed at 0) as src/training/k-plus-one.ts defines
 * them, in float64 with the maximum subtracted, so large or very negative logits neither overflow
 * nor lose the confidence: with Z = sum_k exp(l_k),
 *   p(k | x) = exp(l_k) / (Z + 1)    p(K+1 | x) = 1 / (Z + 1)    p(k | x, y <= K) = exp(l_k) / Z.
 */
export function readKPlusOne(logits: ArrayLike<number>): KPlusOneReading {
  const k = logits.length;
  if (k < 1) throw new Error('readKPlusOne: expected at least one logit, got none');
  let labelIndex = 0;
  for (let i = 0; i < k; i++) {
    if (!Number.isFinite(logits[i])) throw new Error(`readKPlusOne: expected finite logits, got ${logits[i]} at ${i}`);
    if (logits[i] > logits[labelIndex]) labelIndex = i;
  }
  const top = logits[labelIndex];
  // Over the K classes: shifted by the top logit, the label's term is exactly 1.
  const classTerms = Array.from(logits, (l) => Math.exp(l - top));
  const classSum = classTerms.reduce((a, b) => a + b, 0);
  // Over K+1: shifted by max(top, 0), the largest of all K+1 logits.
  const shift = Math.max(top, 0);
  const terms = Array.from(logits, (l) => Math.exp(l - shift));
  const generatedTerm = Math.exp(-shift);
  const total = terms.reduce((a, b) => a + b, 0) + generatedTerm;
  return {
    labelIndex,
    confidence: 1 / classSum,
    probabilities: terms.map((t) => t / total),
    generatedProbability: generatedTerm / total,
  };
}
