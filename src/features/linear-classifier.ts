import { createPrng, shuffledIndices, type Prng } from '../data/prng';

/**
 * A linear classifier as in DCGAN's feature evaluation (Radford et al. 2015, sec 5.1: an L2-SVM on
 * the discriminator's features): one-vs-rest L2-regularised L2-loss (squared hinge) SVMs,
 *   min_w  1/2 ||w||^2 + C * sum_i max(0, 1 - y_i w.x_i)^2,
 * solved in the dual by coordinate descent (Hsieh et al. 2008, LIBLINEAR's default solver, which
 * scikit-learn's LinearSVC calls), with a bias as one more feature of value 1. Features are
 * standardised with the training set's mean and standard deviation. C is chosen by stratified,
 * seeded k-fold cross-validation on the training set over `cCandidates`. Plain TypeScript on
 * Float64Array, deterministic for a seed.
 */
export interface LinearClassifierOptions {
  /** Seed of the fold split and the coordinate order. */
  seed: number;
  /** Values of C tried by cross-validation; the best mean fold accuracy wins, ties to the larger C. Default 10^-3 .. 10. */
  cCandidates?: readonly number[];
  /** Folds of the cross-validation, at most the smallest class's count; default 5. With one candidate, none is run. */
  folds?: number;
  /** Passes over the data per SVM; default 1000 (LIBLINEAR's). */
  maxEpochs?: number;
  /** Stop when the projected gradient's range is below this; default 0.1 (LIBLINEAR's eps). */
  tolerance?: number;
}

export const DEFAULT_C_CANDIDATES: readonly number[] = Object.freeze([0.001, 0.01, 0.1, 1, 10]);

export interface LinearClassifier {
  classes: number;
  /** Per-feature training mean and 1 / standard deviation (1 where the feature is constant). */
  mean: Float64Array;
  invStd: Float64Array;
  /** One weight vector per class over the standardised features, its bias last (d + 1 values). */
  weights: Float64Array[];
  /** The C used, and the cross-validation accuracy of each candidate (empty without cross-validation). */
  c: number;
  crossValidation: { c: number; accuracy: number }[];
}

type Rows = readonly ArrayLike<number>[];

/** Fits the classifier on `features` (one row per example) with labels in [0, classes). */
export function fitLinearClassifier(features: Rows, labels: ArrayLike<number>, classes: number, options: LinearClassifierOptions): LinearClassifier {
  const n = features.length;
  if (n === 0) throw new Error('fitLinearClassifier: expected at least one example, got none');
  if (labels.length !== n) throw new Error(`fitLinearClassifier: expected one label per example (${n}), got ${labels.length}`);
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`fitLinearClassifier: expected classes >= 2, got ${classes}`);
  const d = features[0].length;
  for (let i = 0; i < n; i++) {
    if (features[i].length !== d) throw new Error(`fitLinearClassifier: expected every row of length ${d}, got ${features[i].length} at row ${i}`);
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`fitLinearClassifier: expected labels in [0, ${classes - 1}], got ${y} at row ${i}`);
  }
  const candidates = options.cCandidates ?? DEFAULT_C_CANDIDATES;
  if (candidates.length === 0 || !candidates.every((c) => c > 0 && Number.isFinite(c))) {
    throw new Error(`fitLinearClassifier: expected cCandidates of positive numbers, got [${candidates.join(', ')}]`);
  }
  const solver = { maxEpochs: options.maxEpochs ?? 1000, tolerance: options.tolerance ?? 0.1 };

  const { mean, invStd } = standardisation(features);
  const x = features.map((row) => standardise(row, mean, invStd));
  // With fewer examples than features the solver works on the examples' dot products (n^2 per
  // epoch), else on the weight vector itself (n * d per epoch), as LIBLINEAR does.
  const data: DualData = n <= d + 1 ? { x, gram: gramMatrix(x) } : { x };

  let c = candidates[0];
  const crossValidation: { c: number; accuracy: number }[] = [];
  const smallest = Math.min(...classCounts(labels, classes).filter((k) => k > 0));
  const folds = Math.min(options.folds ?? 5, smallest);
  if (candidates.length > 1 && folds >= 2) {
    const foldOf = stratifiedFolds(labels, folds, createPrng(options.seed));
    for (const candidate of candidates) {
      let correct = 0;
      for (let f = 0; f < folds; f++) {
        const train: number[] = [];
        const held: number[] = [];
        for (let i = 0; i < n; i++) (foldOf[i] === f ? held : train).push(i);
        const weights = fitOneVsRest(data, train, labels, classes, candidate, solver, options.seed + 1 + f);
        for (const i of held) {
          let bestClass = 0;
          let bestScore = -Infinity;
          for (let k = 0; k < classes; k++) {
            const score = dot(weights[k], x[i]);
            if (score > bestScore) {
              bestScore = score;
              bestClass = k;
            }
          }
          if (bestClass === labels[i]) correct++;
        }
      }
      crossValidation.push({ c: candidate, accuracy: correct / n });
    }
    // Best accuracy; ties to the larger C: with few labels folds are often all correct, and there
    // the strongest regularisation drifts to a nearest-centroid rule, the weakest is the max-margin fit.
    const best = [...crossValidation].sort((a, b) => b.accuracy - a.accuracy || b.c - a.c)[0];
    c = best.c;
  }

  const all = Array.from({ length: n }, (_, i) => i);
  const weights = fitOneVsRest(data, all, labels, classes, c, solver, options.seed);
  return { classes, mean, invStd, weights, c, crossValidation };
}

/** Each row's score for each class (w_k . standardised x + bias). */
export function decisionScores(model: LinearClassifier, features: Rows): Float64Array[] {
  return features.map((row) => {
    const x = standardise(row, model.mean, model.invStd);
    return Float64Array.from(model.weights, (w) => dot(w, x));
  });
}

/** The class with the highest score, per row (ties to the lower class). */
export function predictClasses(model: LinearClassifier, features: Rows): Int32Array {
  return Int32Array.from(decisionScores(model, features), (scores) => {
    let best = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k] > scores[best]) best = k;
    return best;
  });
}

/** Fraction of rows whose predicted class is the label. */
export function classifierAccuracy(model: LinearClassifier, features: Rows, labels: ArrayLike<number>): number {
  if (features.length === 0) return 0;
  const predicted = predictClasses(model, features);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / predicted.length;
}

const sign = (positive: boolean): number => (positive ? 1 : -1);

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

function standardisation(features: Rows): { mean: Float64Array; invStd: Float64Array } {
  const n = features.length;
  const d = features[0].length;
  const mean = new Float64Array(d);
  for (const row of features) for (let j = 0; j < d; j++) mean[j] += row[j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const variance = new Float64Array(d);
  for (const row of features) {
    for (let j = 0; j < d; j++) {
      const v = row[j] - mean[j];
      variance[j] += v * v;
    }
  }
  // A constant feature carries nothing; 1 keeps it at 0 after centring instead of dividing by 0.
  const invStd = Float64Array.from(variance, (v) => (v > 1e-24 ? 1 / Math.sqrt(v / n) : 1));
  return { mean, invStd };
}

/** (row - mean) * invStd, with the bias feature 1 appended. */
function standardise(row: ArrayLike<number>, mean: Float64Array, invStd: Float64Array): Float64Array {
  const d = mean.length;
  const out = new Float64Array(d + 1);
  for (let j = 0; j < d; j++) out[j] = (row[j] - mean[j]) * invStd[j];
  out[d] = 1;
  return out;
}

function gramMatrix(x: readonly Float64Array[]): Float64Array[] {
  const n = x.length;
  const gram = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = dot(x[i], x[j]);
      gram[i][j] = v;
      gram[j][i] = v;
    }
  }
  return gram;
}

function classCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

/** Fold of each example: each class's examples shuffled (seeded) and dealt round-robin to the folds. */
function stratifiedFolds(labels: ArrayLike<number>, folds: number, prng: Prng): Int32Array {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  const foldOf = new Int32Array(labels.length);
  let next = 0;
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(key) as number[];
    for (const k of shuffledIndices(members.length, prng)) foldOf[members[k]] = next++ % folds;
  }
  return foldOf;
}

/** The standardised training rows (bias feature included), and their Gram matrix when it is the cheaper path. */
interface DualData {
  x: readonly Float64Array[];
  gram?: readonly Float64Array[];
}

/** One weight vector per class (class k against the rest), trained on the rows `rows` of `data`. */
function fitOneVsRest(
  data: DualData,
  rows: readonly number[],
  labels: ArrayLike<number>,
  classes: number,
  c: number,
  solver: { maxEpochs: number; tolerance: number },
  seed: number,
): Float64Array[] {
  const fit = (k: number, prng: Prng): Float64Array => {
    const y = Float64Array.from(rows, (i) => sign(labels[i] === k));
    const alpha = dualCoordinateDescent(data, rows, y, c, solver, prng);
    // w = sum_t alpha_t y_t x_t.
    const w = new Float64Array(data.x[0].length);
    for (let t = 0; t < rows.length; t++) {
      if (alpha[t] === 0) continue;
      const coef = alpha[t] * y[t];
      const row = data.x[rows[t]];
      for (let j = 0; j < w.length; j++) w[j] += coef * row[j];
    }
    return w;
  };
  // Two classes need one SVM: class 0's is its mirror image.
  if (classes === 2) {
    const w = fit(1, createPrng(seed));
    return [w.map((v) => -v), w];
  }
  return Array.from({ length: classes }, (_, k) => fit(k, createPrng(seed + k)));
}

/**
 * Hsieh et al. 2008, Algorithm 1 for the L2-loss SVM: minimise 1/2 a'(Q + D)a - sum(a), a >= 0,
 * Q_st = y_s y_t x_s.x_t, D = I / (2C), one coordinate at a time in a seeded random order per
 * epoch. Keeps the margins f_s = w.x_s (w = sum_t a_t y_t x_t) up to date through the Gram matrix
 * when there is one (O(n) per update), else keeps w (O(d) per update).
 */
function dualCoordinateDescent(
  data: DualData,
  rows: readonly number[],
  y: Float64Array,
  c: number,
  solver: { maxEpochs: number; tolerance: number },
  prng: Prng,
): Float64Array {
  const n = rows.length;
  const diag = 1 / (2 * c);
  const alpha = new Float64Array(n);
  const { x, gram } = data;
  const f = gram ? new Float64Array(n) : undefined;
  const w = gram ? undefined : new Float64Array(x[0].length);
  const selfDot = Float64Array.from(rows, (i) => (gram ? gram[i][i] : dot(x[i], x[i])));
  for (let epoch = 0; epoch < solver.maxEpochs; epoch++) {
    let maxPg = -Infinity;
    let minPg = Infinity;
    for (const s of shuffledIndices(n, prng)) {
      const margin = f ? f[s] : dot(w as Float64Array, x[rows[s]]);
      const g = y[s] * margin - 1 + diag * alpha[s];
      // Projected gradient: at the bound a = 0 only a negative gradient can move it.
      const pg = alpha[s] === 0 ? Math.min(g, 0) : g;
      if (pg > maxPg) maxPg = pg;
      if (pg < minPg) minPg = pg;
      if (pg === 0) continue;
      const old = alpha[s];
      alpha[s] = Math.max(old - g / (selfDot[s] + diag), 0);
      const change = (alpha[s] - old) * y[s];
      if (change === 0) continue;
      if (f) {
        const k = (gram as readonly Float64Array[])[rows[s]];
        for (let t = 0; t < n; t++) f[t] += change * k[rows[t]];
      } else {
        const row = x[rows[s]];
        const v = w as Float64Array;
        for (let j = 0; j < v.length; j++) v[j] += change * row[j];
      }
    }
    if (maxPg - minPg < solver.tolerance) break;
  }
  return alpha;
}
