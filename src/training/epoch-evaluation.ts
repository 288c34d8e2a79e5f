import { badInput } from '../errors/ganql-error';
import type { ReferenceFeatures } from '../evaluation/compute-metrics';
import { EVALUATION_LIMITS } from '../evaluation/evaluation.limits';
import { computeReference, evaluateImages, type ImageSource } from '../evaluation/evaluator';
import { computeMetricsInThread } from '../evaluation/metrics-runner';
import { REFERENCE_DATASETS, type ReferenceDataset } from '../evaluation/reference-datasets';
import type { Scorer } from '../evaluation/scorer';
import { ScorerCatalog, type ScorerEntry } from '../evaluation/scorer-catalog';
import { defaultScorer } from '../evaluation/scorer-fit';
import { seededLatentStream } from '../samples/latents';
import { EVAL_SPLIT_SIZE, type TrainingSpec } from './training-spec';

/** What an evaluated epoch adds to its record (history.json): IS mean and std over the splits, and FID. */
export interface EpochScores {
  inceptionScore: number;
  inceptionScoreStd: number;
  fid: number;
}

/** G in inference mode: `count` images for `count` latents laid out row-major, one Float32Array per image. */
export type GenerateImages = (latents: Float32Array, count: number) => Float32Array[];

/** Whether 1-based `epoch` is evaluated: every spec.evalEvery epochs, and the last. */
export function isEvalEpoch(spec: Pick<TrainingSpec, 'evalEvery' | 'epochs'>, epoch: number): boolean {
  return spec.evalEvery !== undefined && (epoch % spec.evalEvery === 0 || epoch === spec.epochs);
}

/**
 * The scorer the per-epoch evaluation of `spec` uses: the dataset's default (as the evaluate mutation
 * and `npm run eval` choose it) among `scorers`; BAD_USER_INPUT when none fits.
 */
export function evalScorer(
  spec: Pick<TrainingSpec, 'dataset'>,
  imageShape: [number, number, number],
  scorers: readonly ScorerEntry[],
  scorersDir: string,
): ScorerEntry {
  const subject = { id: `the ${spec.dataset} generator in training`, manifest: { dataset: spec.dataset, imageShape } };
  const entry = REFERENCE_DATASETS.has(spec.dataset) ? defaultScorer(scorers, subject, (d) => REFERENCE_DATASETS.get(d)) : undefined;
  if (entry === undefined) {
    const found = scorers.map((s) => `${s.name} (${s.manifest.dataset})`).join(', ') || 'none';
    throw badInput(
      `evalEvery: expected a scorer of dataset ${JSON.stringify(spec.dataset)} under ${scorersDir} (npm run train:scorer makes one), got ${found}`,
    );
  }
  return entry;
}

/**
 * The Inception Score and FID of a generator during training (spec.evalEvery), by the pipeline of the
 * evaluate mutation and `npm run eval` (src/evaluation/): the dataset's default scorer, FID against
 * the scorer's features of the dataset's whole training split (computed once, at open), and samples
 * from seededLatents(0, ...) scored in IS splits of EVAL_SPLIT_SIZE shuffled with seed 0. The figures
 * for a version equal `npm run eval -- --model DIR --samples N --splits N/1000 --seed 0` on it, up to
 * the float rounding of serving's folded batchnorm.
 */
export class EpochEvaluator {
  private constructor(
    private readonly catalog: ScorerCatalog,
    private readonly scorer: Scorer,
    /** The scorer's folder name, recorded in the manifest. */
    readonly scorerName: string,
    private readonly reference: ReferenceFeatures,
    private readonly spec: TrainingSpec,
    private readonly imageShape: [number, number, number],
  ) {}

  /** Loads the dataset's scorer under scorersDir and the reference features; BAD_USER_INPUT when the dataset has no scorer there. */
  static async open(
    spec: TrainingSpec,
    imageShape: [number, number, number],
    scorersDir: string,
    log: (msg: string) => void = () => undefined,
  ): Promise<EpochEvaluator> {
    const catalog = ScorerCatalog.load(scorersDir, (folder, reason) => log(`scorer ${folder} skipped: ${reason}`));
    const entry = evalScorer(spec, imageShape, catalog.list(), scorersDir);
    // evalScorer found a scorer: the dataset is one ganql loads.
    const dataset = REFERENCE_DATASETS.get(spec.dataset) as ReferenceDataset;
    try {
      const { scorer } = await catalog.use(entry.name);
      const train = await dataset.load('train');
      const reference = await computeReference(scorer, train);
      log(
        `evaluating every ${spec.evalEvery} epochs on ${spec.evalSamples} samples with scorer ${entry.name} (FID against ${train.count} ${dataset.name} training images)`,
      );
      return new EpochEvaluator(catalog, scorer, entry.name, reference, spec, imageShape);
    } catch (error) {
      await catalog.dispose();
      throw error;
    }
  }

  /** IS and FID of `generate`'s images on the fixed evaluation latents. */
  async evaluate(generate: GenerateImages): Promise<EpochScores> {
    const samples = this.spec.evalSamples ?? EVAL_SPLIT_SIZE;
    const seed = EVALUATION_LIMITS.seed.default;
    const latentSize = this.spec.latentSize;
    const next = seededLatentStream(seed, latentSize);
    const pixels = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
    const source: ImageSource = {
      imageShape: this.imageShape,
      range: [-1, 1],
      read: async (_start, count) => {
        const latents = new Float32Array(count * latentSize);
        next(count).forEach((z, i) => latents.set(z, i * latentSize));
        const images = new Float32Array(count * pixels);
        generate(latents, count).forEach((image, i) => images.set(image, i * pixels));
        return images;
      },
    };
    const out = await evaluateImages({
      source,
      samples,
      metrics: ['INCEPTION_SCORE', 'FID'],
      splits: samples / EVAL_SPLIT_SIZE,
      seed,
      scorer: this.scorer,
      reference: this.reference,
      runMetrics: computeMetricsInThread,
    });
    if (out.inceptionScore === undefined || out.fid === undefined) throw new Error('EpochEvaluator: expected an Inception Score and a FID, got neither');
    return { inceptionScore: out.inceptionScore.mean, inceptionScoreStd: out.inceptionScore.std, fid: out.fid };
  }

  /** Frees the scorer. */
  dispose(): Promise<void> {
    return this.catalog.dispose();
  }
}
