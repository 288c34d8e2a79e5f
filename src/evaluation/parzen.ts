import { rowSquaredNorms, toMatrix, type Matrix, type MatrixInput } from './matrix';
import { meanAndStd } from './moments';
import { squaredDistanceBlock } from './squared-distances';

/** 10^linspace(-1, 0, 10): the default sigma grid of Goodfellow et al.'s parzen_ll.py. */
export const defaultParzenSigmas: readonly number[] = Object.freeze(logSpace(-1, 0, 10));

/** `count` values 10^x, x evenly spaced from `start` to `end` inclusive (numpy.logspace). */
export function logSpace(start: number, end: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`logSpace: expected a positive integer count, got ${count}`);
  if (count === 1) return [10 ** start];
  return Array.from({ length: count }, (_, i) => 10 ** (start + ((end - start) * i) / (count - 1)));
}

export interface ParzenOptions {
  /** Candidate window widths; the one with the best mean validation log-likelihood wins. */
  sigmas?: readonly number[];
  /** Points evaluated per pass over the samples; bounds memory at batchSize x samples doubles. */
  batchSize?: number;
}

export interface ParzenResult {
  /** The sigma chosen on the validation set. */
  sigma: number;
  /** Mean log-likelihood of the test points (nats per point). */
  mean: number;
  /** Standard error of that mean: population std / sqrt(n), as parzen_ll.py prints. */
  stdErr: number;
  /** Mean validation log-likelihood of every candidate sigma, in the order given. */
  validation: { sigma: number; mean: number }[];
}

/**
 * Parzen-window log-likelihood estimate of Goodfellow et al. 2014 (parzen_ll.py): an isotropic
 * Gaussian of width sigma on every generated sample; for each point x,
 * log p(x) = logmeanexp_i(-|x - s_i|^2 / (2 sigma^2)) - D log(sigma sqrt(2 pi)).
 * sigma is picked from `sigmas` by the mean log-likelihood of `validation`, then `test` is scored.
 * Distances do not depend on sigma, so each point's distances are computed once for all sigmas.
 */
export function parzenLogLikelihood(samples: MatrixInput, validation: MatrixInput, test: MatrixInput, options: ParzenOptions = {}): ParzenResult {
  const s = toMatrix(samples, 'parzenLogLikelihood: samples');
  const v = toMatrix(validation, 'parzenLogLikelihood: validation');
  const t = toMatrix(test, 'parzenLogLikelihood: test');
  for (const [m, what] of [
    [v, 'validation'],
    [t, 'test'],
  ] as const) {
    if (m.cols !== s.cols) throw new Error(`parzenLogLikelihood: ${what}: expected rows of ${s.cols} values like the samples, got ${m.cols}`);
  }
  const sigmas = options.sigmas ?? defaultParzenSigmas;
  if (sigmas.length === 0) throw new Error('parzenLogLikelihood: sigmas: expected at least one, got none');
  for (const sigma of sigmas) {
    if (!(Number.isFinite(sigma) && sigma > 0)) throw new Error(`parzenLogLikelihood: sigmas: expected positive numbers, got ${sigma}`);
  }
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`parzenLogLikelihood: batchSize: expected a positive integer, got ${batchSize}`);

  const perSigma = parzenLogDensities(s, v, sigmas, batchSize);
  const validationMeans = sigmas.map((sigma, i) => ({ sigma, mean: meanAndStd(perSigma[i]).mean }));
  // argmax, first on ties, as numpy.argmax.
  let best = 0;
  for (let i = 1; i < validationMeans.length; i++) if (validationMeans[i].mean > validationMeans[best].mean) best = i;
  const sigma = sigmas[best];
  const [testLl] = parzenLogDensities(s, t, [sigma], batchSize);
  const { mean, std } = meanAndStd(testLl);
  return { sigma, mean, stdErr: std / Math.sqrt(t.rows), validation: validationMeans };
}

/**
 * log p(x) of every row of `points` under the Parzen window on `samples`, for each sigma:
 * result[j][i] is point i under sigmas[j].
 */
export function parzenLogDensities(samples: MatrixInput, points: MatrixInput, sigmas: readonly number[], batchSize = 16): Float64Array[] {
  const s = toMatrix(samples, 'parzenLogDensities: samples');
  const p = toMatrix(points, 'parzenLogDensities: points');
  if (p.cols !== s.cols) throw new Error(`parzenLogDensities: points: expected rows of ${s.cols} values like the samples, got ${p.cols}`);
  return logDensities(s, p, sigmas, batchSize);
}

function logDensities(s: Matrix, p: Matrix, sigmas: readonly number[], batchSize: number): Float64Array[] {
  const dim = s.cols;
  const n = s.rows;
  const sNorms = rowSquaredNorms(s);
  const pNorms = rowSquaredNorms(p);
  const out = sigmas.map(() => new Float64Array(p.rows));
  const logNorm = sigmas.map((sigma) => dim * Math.log(sigma * Math.sqrt(2 * Math.PI)));
  const block = new Float64Array(Math.min(batchSize, p.rows) * n);
  const logN = Math.log(n);
  for (let q0 = 0; q0 < p.rows; q0 += batchSize) {
    const q1 = Math.min(p.rows, q0 + batchSize);
    squaredDistanceBlock(p, pNorms, q0, q1, s, sNorms, block);
    for (let i = 0; i < q1 - q0; i++) {
      const base = i * n;
      // The largest exponent belongs to the smallest distance, whatever sigma is.
      let minDist = Infinity;
      for (let r = 0; r < n; r++) if (block[base + r] < minDist) minDist = block[base + r];
      for (let j = 0; j < sigmas.length; j++) {
        const scale = 1 / (2 * sigmas[j] * sigmas[j]);
        let sum = 0;
        for (let r = 0; r < n; r++) sum += Math.exp(-(block[base + r] - minDist) * scale);
        // log mean exp = max + log(sum exp(a - max)) - log n, with max = -minDist * scale.
        out[j][q0 + i] = -minDist * scale + Math.log(sum) - logN - logNorm[j];
      }
    }
  }
  return out;
}
