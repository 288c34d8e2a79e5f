import { blockDots, toMatrix, type Matrix, type MatrixInput } from './matrix';
import { symmetricEigen } from './symmetric-eigen';

/** Rows per covariance chunk: bounds the transposed copy to D x 512 doubles (2 MB at D = 512). */
const COV_CHUNK_ROWS = 512;

/** Mean and covariance of a feature set: the Gaussian that FID compares. */
export interface GaussianStats {
  /** Feature dimension D. */
  dim: number;
  /** Number of feature rows the stats came from. */
  count: number;
  /** Mean feature, length D. */
  mean: Float64Array;
  /** Unbiased covariance (divided by N - 1, as np.cov), row-major D x D, exactly symmetric. */
  cov: Float64Array;
}

/** Mean and unbiased covariance of N x D features (N >= 2), in float64. */
export function gaussianStats(features: MatrixInput): GaussianStats {
  const m = toMatrix(features, 'gaussianStats: features');
  const { rows: n, cols: dim, data } = m;
  if (n < 2) throw new Error(`gaussianStats: expected at least 2 feature rows for a covariance, got ${n}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) mean[k] += data[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= n;
  // Sum of outer products of centred rows, as X^T X over chunks of rows: each chunk is stored
  // transposed (D x chunk) so blockDots can form its D x D Gram matrix, upper triangle only.
  const cov = new Float64Array(dim * dim);
  const chunk = Math.min(n, COV_CHUNK_ROWS);
  const xt = new Float64Array(dim * chunk);
  const tile = new Float64Array(2 * dim);
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const rows = Math.min(chunk, n - r0);
    const view: Matrix = { data: rows === chunk ? xt : xt.subarray(0, dim * rows), rows: dim, cols: rows };
    for (let i = 0; i < rows; i++) {
      const src = (r0 + i) * dim;
      for (let k = 0; k < dim; k++) view.data[k * rows + i] = data[src + k] - mean[k];
    }
    for (let a = 0; a < dim; a += 2) {
      const a1 = Math.min(dim, a + 2);
      const width = dim - a;
      blockDots(view, a, a1, view, a, dim, tile);
      for (let i = a; i < a1; i++) {
        const t = (i - a) * width - a;
        const row = i * dim;
        for (let b = i; b < dim; b++) cov[row + b] += tile[t + b];
      }
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (n - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { dim, count: n, mean, cov };
}

/**
 * Fréchet distance between two Gaussians (Heusel et al. 2017):
 * |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)).
 * tr(sqrt(S1 S2)) is computed as sum_i sqrt(lambda_i) over the eigenvalues of the symmetric PSD
 * matrix sqrt(S1) S2 sqrt(S1), which is similar to S1 S2: two symmetric eigendecompositions and
 * two D^3 products (~0.1 s at D = 128, ~1 s at 512, ~8 s at 1024 on one core). Eigenvalues that
 * rounding leaves around 0 (singular or rank-deficient covariances, N < D), negative ones
 * included, count as 0, so the result is finite where scipy.linalg.sqrtm goes complex or warns.
 * Not clamped at 0 itself: identical inputs give a value within rounding (~1e-12 relative) of 0,
 * possibly negative.
 */
export function frechetDistance(stats1: GaussianStats, stats2: GaussianStats): number {
  checkStats(stats1, 'stats1');
  checkStats(stats2, 'stats2');
  if (stats1.dim !== stats2.dim) {
    throw new Error(`frechetDistance: expected stats of equal dimension, got ${stats1.dim} and ${stats2.dim}`);
  }
  const n = stats1.dim;
  let meanTerm = 0;
  for (let k = 0; k < n; k++) meanTerm += (stats1.mean[k] - stats2.mean[k]) ** 2;
  let trace1 = 0;
  let trace2 = 0;
  for (let k = 0; k < n; k++) {
    trace1 += stats1.cov[k * n + k];
    trace2 += stats2.cov[k * n + k];
  }
  // sqrt(S1) S2 sqrt(S1) = V L^1/2 (V^T S2 V) L^1/2 V^T for S1 = V L V^T; its eigenvalues are those
  // of the middle factor L^1/2 (V^T S2 V) L^1/2, so the square root of S1 is never formed.
  const { values: lambda1, vectors } = symmetricEigen(stats1.cov, n, { vectors: true });
  // Present because vectors were asked for; row j is the eigenvector of lambda1[j].
  const v: Matrix = { data: vectors as Float64Array, rows: n, cols: n };
  const tol1 = rankTolerance(lambda1, n);
  const root = lambda1.map((l) => (l > tol1 ? Math.sqrt(l) : 0));
  // Row i of s2v is (S2 v_i)^T, because S2 is symmetric: S2's rows are its columns.
  const s2v = new Float64Array(n * n);
  blockDots(v, 0, n, { data: stats2.cov, rows: n, cols: n }, 0, n, s2v);
  const inner = new Float64Array(n * n);
  blockDots({ data: s2v, rows: n, cols: n }, 0, n, v, 0, n, inner);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      // Exactly symmetric again: rounding in the products breaks it slightly.
      const value = 0.5 * (inner[a * n + b] + inner[b * n + a]) * root[a] * root[b];
      inner[a * n + b] = value;
      inner[b * n + a] = value;
    }
  }
  const { values } = symmetricEigen(inner, n, { vectors: false });
  const tol = rankTolerance(values, n);
  let traceRoot = 0;
  for (const lambda of values) if (lambda > tol) traceRoot += Math.sqrt(lambda);
  return meanTerm + trace1 + trace2 - 2 * traceRoot;
}

/** FID straight from two feature sets (rows are samples). */
export function frechetDistanceOfFeatures(features1: MatrixInput, features2: MatrixInput): number {
  return frechetDistance(gaussianStats(features1), gaussianStats(features2));
}

function checkStats(s: GaussianStats, what: string): void {
  if (!Number.isInteger(s.dim) || s.dim < 1) throw new Error(`frechetDistance: ${what}.dim: expected a positive integer, got ${s.dim}`);
  if (s.mean.length !== s.dim) throw new Error(`frechetDistance: ${what}.mean: expected ${s.dim} values, got ${s.mean.length}`);
  if (s.cov.length !== s.dim * s.dim) {
    throw new Error(`frechetDistance: ${what}.cov: expected ${s.dim} x ${s.dim} = ${s.dim * s.dim} values, got ${s.cov.length}`);
  }
}

/**
 * Eigenvalues at or below n * eps * max |lambda| are rounding noise around 0 (numpy's
 * matrix_rank tolerance). Taken as 0: their square roots, ~sqrt(eps), would otherwise add up to
 * ~1e-7 relative error on rank-deficient covariances.
 */
function rankTolerance(values: Float64Array, n: number): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max * n * Number.EPSILON;
}
