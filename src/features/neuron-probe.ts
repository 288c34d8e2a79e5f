import { createPrng, shuffledIndices } from '../data/prng';

/** The balanced probe set of Le et al. 2012: every image of the concept, and as many others. */
export interface ProbeSet {
  /** Indices into the labelled set: the positives (in index order), then the drawn negatives. */
  indices: Uint32Array;
  /** isPositive[k] says whether indices[k] is an image of the concept. */
  isPositive: Uint8Array;
  positives: number;
}

/**
 * Positives = every example labelled `concept`; negatives = as many drawn without replacement
 * (seeded) from the other labels, so chance accuracy is 50% (Le et al. 2012, sec 4.2: a test set
 * of faces and as many distractors). If there are fewer others than positives, all others are used.
 */
export function balancedProbeSet(labels: ArrayLike<number>, concept: number, seed: number): ProbeSet {
  const positives: number[] = [];
  const others: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === concept ? positives : others).push(i);
  if (positives.length === 0) throw new Error(`balancedProbeSet: expected at least one example of concept ${concept}, got none`);
  const order = shuffledIndices(others.length, createPrng(seed));
  const negatives = Array.from(order.subarray(0, Math.min(positives.length, others.length)), (k) => others[k]).sort((a, b) => a - b);
  const indices = Uint32Array.from([...positives, ...negatives]);
  const isPositive = new Uint8Array(indices.length);
  isPositive.fill(1, 0, positives.length);
  return { indices, isPositive, positives: positives.length };
}

export interface Threshold {
  /** Classify "concept" when activation >= threshold; the smallest activation counted as concept (Infinity: none). */
  threshold: number;
  /** Fraction of the probe set classified correctly at that threshold. */
  accuracy: number;
}

/**
 * The threshold t maximising the accuracy of "value >= t means positive" over the given examples,
 * in O(n log n): sort by value, then sweep t down through the distinct values, counting positives
 * above and negatives below. Ties in accuracy keep the highest t. t = Infinity (all negative) is a
 * candidate, so the accuracy is never below the share of negatives.
 */
export function bestThreshold(values: ArrayLike<number>, isPositive: ArrayLike<number>): Threshold {
  const n = values.length;
  if (n === 0 || isPositive.length !== n) throw new Error(`bestThreshold: expected as many labels as values (> 0), got ${isPositive.length} and ${n}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b] - values[a]);
  let totalPositives = 0;
  for (let i = 0; i < n; i++) totalPositives += isPositive[i] ? 1 : 0;
  // Threshold above everything: every example said negative.
  let correct = n - totalPositives;
  let best: Threshold = { threshold: Infinity, accuracy: correct / n };
  for (let k = 0; k < n;) {
    const t = values[order[k]];
    // Lower the threshold to t: every example with value t becomes "positive".
    for (; k < n && values[order[k]] === t; k++) correct += isPositive[order[k]] ? 1 : -1;
    if (correct / n > best.accuracy) best = { threshold: t, accuracy: correct / n };
  }
  return best;
}

export interface NeuronScore extends Threshold {
  neuron: number;
}

/**
 * Le et al.'s single-neuron classifier test: for each neuron, the best threshold's accuracy on the
 * probe set. `activations[i][j]` is neuron j's activation for example probe.indices[i]'s image
 * (rows in probe order). Sorted by accuracy (best first), ties by neuron index.
 */
export function probeNeurons(activations: readonly ArrayLike<number>[], isPositive: ArrayLike<number>): NeuronScore[] {
  if (activations.length !== isPositive.length)
    throw new Error(`probeNeurons: expected one activation row per probe example (${isPositive.length}), got ${activations.length}`);
  if (activations.length === 0) return [];
  const neurons = activations[0].length;
  const column = new Float64Array(activations.length);
  const scores: NeuronScore[] = [];
  for (let j = 0; j < neurons; j++) {
    for (let i = 0; i < activations.length; i++) column[i] = activations[i][j];
    scores.push({ neuron: j, ...bestThreshold(column, isPositive) });
  }
  return scores.sort((a, b) => b.accuracy - a.accuracy || a.neuron - b.neuron);
}

/** The `count` rows with the highest values of column `neuron`, best first (ties by row). */
export function topActivating(activations: readonly ArrayLike<number>[], neuron: number, count: number): { index: number; activation: number }[] {
  return activations
    .map((row, index) => ({ index, activation: row[neuron] }))
    .sort((a, b) => b.activation - a.activation || a.index - b.index)
    .slice(0, count);
}
