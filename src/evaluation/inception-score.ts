import { createPrng, shuffledIndices } from '../data/prng';
import { toMatrix, type MatrixInput } from './matrix';
import { meanAndStd } from './moments';

export interface InceptionScoreOptions {
  /** Number of contiguous parts the rows are split into; 10 as in the reference code. */
  splits?: number;
  /**
   * Seed of a row shuffle before splitting. Omitted (the default), rows are split in the order
   * given, exactly as OpenAI's improved-gan `inception_score/model.py` does (it never shuffles);
   * torch-fidelity shuffles with a seeded permutation, which this reproduces in spirit.
   */
  shuffleSeed?: number;
}

export interface InceptionScore {
  /** Mean of the split scores. */
  mean: number;
  /** Population standard deviation (numpy's np.std, ddof = 0) of the split scores. */
  std: number;
  /** exp(mean_x KL(p(y|x) || p(y))) of each split, in split order. */
  splitScores: number[];
}

/** Rows must sum to 1 within this much: softmax outputs in float32 are off by ~1e-7 per class. */
const ROW_SUM_TOLERANCE = 1e-3;

/**
 * The Inception Score of Salimans et al. 2016, computed as the reference code does:
 * split i is rows [floor(i*N/splits), floor((i+1)*N/splits)); per split,
 * exp(mean over rows of sum_k p_k (log p_k - log pbar_k)), pbar the split's mean row;
 * then mean and population std over splits. Float64 throughout; 0 * log 0 counts as 0
 * (the reference would give NaN there).
 */
export function inceptionScore(probs: MatrixInput, options: InceptionScoreOptions = {}): InceptionScore {
  const m = toMatrix(probs, 'inceptionScore: probs');
  const { rows: n, cols: k, data } = m;
  const splits = options.splits ?? 10;
  if (!Number.isInteger(splits) || splits < 1 || splits > n) {
    throw new Error(`inceptionScore: splits: expected an integer in [1, ${n}] (the number of rows), got ${splits}`);
  }
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = data[i * k + j];
      if (p < 0) throw new Error(`inceptionScore: probs row ${i}, class ${j}: expected a probability >= 0, got ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) {
      throw new Error(`inceptionScore: probs row ${i}: expected a sum of 1 (within ${ROW_SUM_TOLERANCE}), got ${sum}`);
    }
  }
  const order = options.shuffleSeed === undefined ? identity(n) : shuffledIndices(n, createPrng(options.shuffleSeed));

  const splitScores: number[] = [];
  const marginal = new Float64Array(k);
  for (let s = 0; s < splits; s++) {
    // Integer floor division as in the reference: Math.floor is exact for N * splits < 2^53.
    const start = Math.floor((s * n) / splits);
    const end = Math.floor(((s + 1) * n) / splits);
    marginal.fill(0);
    for (let r = start; r < end; r++) {
      const base = order[r] * k;
      for (let j = 0; j < k; j++) marginal[j] += data[base + j];
    }
    const count = end - start;
    for (let j = 0; j < k; j++) marginal[j] /= count;
    let klSum = 0;
    for (let r = start; r < end; r++) {
      const base = order[r] * k;
      let kl = 0;
      for (let j = 0; j < k; j++) {
        const p = data[base + j];
        // p > 0 implies marginal[j] > 0, so the logs are finite; p = 0 contributes 0.
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[j]));
      }
      klSum += kl;
    }
    splitScores.push(Math.exp(klSum / count));
  }
  const { mean, std } = meanAndStd(splitScores);
  return { mean, std, splitScores };
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
