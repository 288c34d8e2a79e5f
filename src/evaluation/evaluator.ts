import { setImmediate as nextTurn } from 'node:timers/promises';
import { createPrng, shuffledIndices } from '../data/prng';
import { mapPixels, UNIT_RANGE } from '../images/pixel-range';
import type { EvaluationMetric, MetricsOutput, ReferenceFeatures } from './compute-metrics';
import { gaussianStats } from './fid';
import type { Matrix } from './matrix';
import type { MetricsRunner } from './metrics-runner';
import type { DatasetSplit } from './reference-datasets';
import type { Scorer } from './scorer';

/** Sizes of an evaluation's work (its arguments' limits are in evaluation.limits.ts); the GraphQL descriptions state them too. */
export const EVALUATION_SIZES = {
  /** Images per pool.generate call: other clients' requests interleave between chunks. */
  chunkSize: 256,
  /** Images per scorer forward pass: ~10 ms each for the shipped 28x28 CNN on wasm. */
  scorerBatchSize: 64,
  /** Generated images the Parzen window is built on (the first ones): bounds its cost to seconds. */
  parzenMaxSamples: 10_000,
  /** Reference feature rows kept for KID's subsets (a seeded subset of larger splits). */
  referenceFeatureRows: 10_000,
} as const;

/** Images to evaluate, read in order in chunks. */
export interface ImageSource {
  imageShape: [number, number, number];
  /** Pixel range of what `read` returns. */
  range: [number, number];
  /** Images [start, start + count), row-major; called with consecutive ranges. */
  read(start: number, count: number): Promise<Float32Array>;
}

export interface ScoreOptions {
  /** Also keep the first `keepPixels` images, scaled to [0, 1] (for Parzen). @default 0 */
  keepPixels?: number;
  /** Called after each chunk with the number of images scored so far. */
  onProgress?: (done: number) => void;
  signal?: AbortSignal;
}

export interface ScoredImages {
  probs: Matrix;
  features: Matrix;
  /** The first keepPixels images in [0, 1], one per row. */
  pixels: Matrix | undefined;
}

/** Reads `count` images from `source` chunk by chunk and runs each chunk through the scorer. */
export async function scoreImages(scorer: Scorer, source: ImageSource, count: number, options: ScoreOptions = {}): Promise<ScoredImages> {
  const [h, w, c] = source.imageShape;
  const pixelsPerImage = h * w * c;
  const K = scorer.manifest.classes;
  const F = scorer.featureSize;
  const probs = new Float64Array(count * K);
  const features = new Float64Array(count * F);
  const keep = Math.min(count, options.keepPixels ?? 0);
  const kept = keep > 0 ? new Float32Array(keep * pixelsPerImage) : undefined;
  for (let start = 0; start < count; start += EVALUATION_SIZES.chunkSize) {
    options.signal?.throwIfAborted();
    const n = Math.min(EVALUATION_SIZES.chunkSize, count - start);
    const images = await source.read(start, n);
    if (images.length !== n * pixelsPerImage) {
      throw new Error(`scoreImages: expected ${n} images of ${pixelsPerImage} values from the source, got ${images.length} values`);
    }
    if (kept && start < keep) {
      const upto = Math.min(keep, start + n) - start;
      mapPixels(images.subarray(0, upto * pixelsPerImage), source.range, UNIT_RANGE, kept.subarray(start * pixelsPerImage, (start + upto) * pixelsPerImage));
    }
    const out = await scorer.predict(images, n, source.imageShape, { range: source.range, batchSize: EVALUATION_SIZES.scorerBatchSize });
    probs.set(out.probs.data, start * K);
    features.set(out.features.data, start * F);
    options.onProgress?.(start + n);
    // Let other work run between chunks even when the source answered synchronously.
    await nextTurn();
  }
  return {
    probs: { data: probs, rows: count, cols: K },
    features: { data: features, rows: count, cols: F },
    pixels: kept ? { data: kept, rows: keep, cols: pixelsPerImage } : undefined,
  };
}

/** The images of a dataset split as an ImageSource. */
export function splitSource(split: DatasetSplit): ImageSource {
  const pixels = split.imageShape[0] * split.imageShape[1] * split.imageShape[2];
  return {
    imageShape: split.imageShape,
    range: split.range,
    read: async (start, count) => split.images.slice(start * pixels, (start + count) * pixels),
  };
}

/**
 * Scorer features of a whole split: mean and covariance over every image (FID), and up to
 * `referenceFeatureRows` of the features themselves (KID), a seeded subset when the split is larger.
 */
export async function computeReference(
  scorer: Scorer,
  split: DatasetSplit,
  options: { onProgress?: (done: number) => void; signal?: AbortSignal } = {},
): Promise<ReferenceFeatures> {
  const { features } = await scoreImages(scorer, splitSource(split), split.count, options);
  const stats = gaussianStats(features);
  const cap = EVALUATION_SIZES.referenceFeatureRows;
  if (features.rows <= cap) return { stats, features };
  const rows = shuffledIndices(features.rows, createPrng(0)).slice(0, cap).sort();
  const kept = new Float64Array(cap * features.cols);
  rows.forEach((r, i) => kept.set(features.data.subarray(r * features.cols, (r + 1) * features.cols), i * features.cols));
  return { stats, features: { data: kept, rows: cap, cols: features.cols } };
}

/**
 * The Parzen validation and test images from a held-out split, in [0, 1] as Goodfellow et al.:
 * its first half picks sigma, its second half is scored.
 */
export function parzenSets(split: DatasetSplit): { validation: Matrix; test: Matrix } {
  const pixels = split.imageShape[0] * split.imageShape[1] * split.imageShape[2];
  const half = Math.floor(split.count / 2);
  const unit = (from: number, to: number): Matrix => {
    const data = new Float32Array((to - from) * pixels);
    mapPixels(split.images.subarray(from * pixels, to * pixels), split.range, UNIT_RANGE, data);
    return { data, rows: to - from, cols: pixels };
  };
  return { validation: unit(0, half), test: unit(half, split.count) };
}

export interface EvaluateImagesOptions {
  source: ImageSource;
  samples: number;
  metrics: readonly EvaluationMetric[];
  splits: number;
  seed: number;
  scorer: Scorer;
  /** Required for FID and KID. */
  reference?: ReferenceFeatures;
  /** Required for PARZEN. */
  parzen?: { validation: Matrix; test: Matrix };
  runMetrics: MetricsRunner;
  /** Fraction 0..1 of the scoring done (the metric math after it is one last step). */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Scores `samples` images from the source and computes the requested metrics. */
export async function evaluateImages(options: EvaluateImagesOptions): Promise<MetricsOutput & { parzenSamples?: number }> {
  const wantsParzen = options.metrics.includes('PARZEN');
  const keepPixels = wantsParzen ? Math.min(options.samples, EVALUATION_SIZES.parzenMaxSamples) : 0;
  const scored = await scoreImages(options.scorer, options.source, options.samples, {
    keepPixels,
    onProgress: (done) => options.onProgress?.(done / options.samples),
    signal: options.signal,
  });
  options.signal?.throwIfAborted();
  const parzen = wantsParzen && options.parzen && scored.pixels ? { samples: scored.pixels, ...options.parzen } : undefined;
  const output = await options.runMetrics(
    {
      metrics: options.metrics,
      probs: scored.probs,
      features: scored.features,
      splits: options.splits,
      seed: options.seed,
      reference: options.reference,
      parzen,
    },
    options.signal,
  );
  return wantsParzen ? { ...output, parzenSamples: keepPixels } : output;
}
