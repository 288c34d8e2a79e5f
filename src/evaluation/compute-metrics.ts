import { frechetDistance, gaussianStats, type GaussianStats } from './fid';
import { inceptionScore, type InceptionScore } from './inception-score';
import { kernelInceptionDistance } from './kid';
import type { Matrix } from './matrix';
import { defaultParzenSigmas, parzenLogLikelihood, type ParzenResult } from './parzen';

/** The metrics an evaluation can compute. */
export const EVALUATION_METRICS = ['INCEPTION_SCORE', 'FID', 'KID', 'PARZEN'] as const;
export type EvaluationMetric = (typeof EVALUATION_METRICS)[number];

/** Subset protocol of KID (torch-fidelity's defaults), bounded by the sizes of both sets. */
export const KID_SUBSET_SIZE = 1000;
export const KID_SUBSETS = 100;

/** Scorer features of the reference data (the model's training split). */
export interface ReferenceFeatures {
  /** Mean and covariance over the whole split, for FID. */
  stats: GaussianStats;
  /** The features KID draws its subsets from (capped; see ReferenceStats in the schema). */
  features: Matrix;
}

/** Everything the metric math needs; plain data, so it can cross to a worker thread. */
export interface MetricsInput {
  metrics: readonly EvaluationMetric[];
  /** N x K class probabilities of the evaluated images. */
  probs: Matrix;
  /** N x F scorer features of the evaluated images. */
  features: Matrix;
  /** Contiguous splits of the Inception Score. */
  splits: number;
  /** Seed of the IS row shuffle and of the KID subset draws. */
  seed: number;
  /** Required for FID and KID. */
  reference?: ReferenceFeatures;
  /** Required for PARZEN: pixels in [0, 1], one image per row. */
  parzen?: { samples: Matrix; validation: Matrix; test: Matrix };
}

export interface KidValue {
  mean: number;
  std: number;
  subsetSize: number;
  subsets: number;
}

/** One value per requested metric; the others are absent. */
export interface MetricsOutput {
  inceptionScore?: InceptionScore;
  fid?: number;
  kid?: KidValue;
  parzen?: ParzenResult;
}

/**
 * The requested metrics of one set of scored images: Inception Score over `splits` shuffled
 * splits, FID and KID against the reference features, and the Parzen-window log-likelihood of the
 * test images under the samples, sigma picked on the validation images (Goodfellow et al.'s grid
 * 10^linspace(-1, 0, 10)). Pure and synchronous: seconds of float64 math at 10,000 images, which
 * is why the server runs it on a worker thread (metrics-runner.ts).
 */
export function computeMetrics(input: MetricsInput): MetricsOutput {
  const wanted = new Set(input.metrics);
  const out: MetricsOutput = {};
  if (wanted.has('INCEPTION_SCORE')) out.inceptionScore = inceptionScore(input.probs, { splits: input.splits, shuffleSeed: input.seed });
  if (wanted.has('FID') || wanted.has('KID')) {
    const reference = input.reference;
    if (!reference) throw new Error('computeMetrics: FID and KID need reference features, got none');
    if (wanted.has('FID')) out.fid = frechetDistance(gaussianStats(input.features), reference.stats);
    if (wanted.has('KID')) {
      const subsetSize = Math.min(KID_SUBSET_SIZE, input.features.rows, reference.features.rows);
      const kid = kernelInceptionDistance(input.features, reference.features, { subsetSize, subsets: KID_SUBSETS, seed: input.seed });
      out.kid = { mean: kid.mean, std: kid.std, subsetSize, subsets: KID_SUBSETS };
    }
  }
  if (wanted.has('PARZEN')) {
    const sets = input.parzen;
    if (!sets) throw new Error('computeMetrics: PARZEN needs samples, validation and test images, got none');
    out.parzen = parzenLogLikelihood(sets.samples, sets.validation, sets.test, { sigmas: defaultParzenSigmas });
  }
  return out;
}
