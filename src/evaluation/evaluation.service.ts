// Over 300 lines: one service with its request checks, scorer choice, cached reference statistics and
// the mapping of its stored rows to views; each of those serves only this service.
import type { Database } from '../db/database';
import { badInput, GanqlError, notFound } from '../errors/ganql-error';
import { ErrorCode } from '../errors/error-code';
import type { InferencePool } from '../inference/pool';
import type { Logger } from '../log/logger';
import type { EvaluationGauges } from '../metrics/metrics';
import type { GeneratingModel, LoadedModel, ModelRegistry } from '../models/model-registry';
import type { RunService } from '../runs/run.service';
import type { RunRecord } from '../runs/run.store';
import { seededLatentStream } from '../samples/latents';
import { describe as show, expectIntInRange } from '../validation/checks';
import { checkedSeed } from '../validation/seed';
import { EVALUATION_METRICS, type EvaluationMetric, type MetricsOutput, type ReferenceFeatures } from './compute-metrics';
import type { DatasetCache } from './dataset-cache';
import { EVALUATION_LIMITS } from './evaluation.limits';
import { computeReference, evaluateImages, parzenSets, type ImageSource } from './evaluator';
import type { MetricsRunner } from './metrics-runner';
import type { ReferenceDataset } from './reference-datasets';
import { ReferenceStatsStore, type ReferenceKey } from './reference-stats.store';
import { defaultScorer, scorerMisfit } from './scorer-fit';
import type { LoadedScorerEntry, ScorerCatalog, ScorerEntry } from './scorer-catalog';

/** The split FID/KID compare with: what the model was trained on. */
const REFERENCE_SPLIT = 'train';

export interface EvaluateRequest {
  modelId?: string | null;
  metrics: readonly EvaluationMetric[];
  samples?: number | null;
  seed?: number | null;
  splits?: number | null;
  /** A scorer name (models/scorers/<name>); the first scorer of the model's dataset when omitted. */
  scorer?: string | null;
}

/** One stored evaluation; a metric not requested is null. */
export interface EvaluationView {
  runId: string;
  modelId: string;
  scorer: string;
  dataset: string;
  samples: number;
  seed: number;
  splits: number;
  metrics: EvaluationMetric[];
  inceptionScore: { mean: number; std: number; splitScores: number[] } | null;
  fid: number | null;
  kid: { mean: number; std: number; subsetSize: number; subsets: number } | null;
  parzen: { mean: number; stdErr: number; sigma: number; samples: number; validationImages: number; testImages: number } | null;
  /** Images of the training split behind the FID/KID reference statistics. */
  referenceImages: number | null;
  createdAt: Date;
}

/** Stored in Evaluation.details: what the columns do not hold. */
interface EvaluationDetails {
  scorerDigest: string;
  inceptionScore?: { splitScores: number[] };
  kid?: { subsetSize: number; subsets: number };
  parzen?: { samples: number; validationImages: number; testImages: number; validation: { sigma: number; mean: number }[] };
  reference?: { split: string; images: number; featureRows: number };
}

/** A validated evaluate() request. */
interface EvaluationPlan {
  model: GeneratingModel;
  scorer: ScorerEntry;
  /** The model's dataset, when a metric needs its images. */
  dataset: ReferenceDataset | undefined;
  metrics: EvaluationMetric[];
  samples: number;
  seed: number;
  splits: number;
}

/**
 * Scores a model version as Salimans et al. (Inception Score), Heusel et al. (FID), Binkowski et al.
 * (KID) and Goodfellow et al. (Parzen window) do, as one background run: samples from fixed seeded
 * noise go through the shared pool in chunks, each chunk through the scorer, and the metric math
 * runs on a worker thread. Results are stored per run and exported as gauges.
 */
export class EvaluationService {
  private readonly referenceStore: ReferenceStatsStore;
  /** Reference features by scorer version, dataset and split; shared by concurrent evaluations. */
  private readonly references = new Map<string, Promise<ReferenceFeatures>>();

  constructor(
    private readonly db: Database,
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly runs: RunService,
    private readonly scorers: ScorerCatalog,
    private readonly datasets: DatasetCache,
    private readonly gauges: EvaluationGauges,
    private readonly runMetrics: MetricsRunner,
    private readonly log: Logger,
  ) {
    this.referenceStore = new ReferenceStatsStore(db.prisma);
  }

  /**
   * Validates the request and starts the evaluation; resolves with its run as soon as it is
   * RUNNING (poll run(id) for status and progress). A refused request is a FAILED run and throws.
   */
  async evaluate(request: EvaluateRequest): Promise<RunRecord> {
    const job = await this.runs.startJob(
      { kind: 'EVALUATE', modelId: request.modelId ?? undefined, parameters: request },
      async (run) => this.plan(request, (id) => run.setModel(id)),
      async (plan, job) => {
        const view = await this.run(plan, job.runId, (f) => job.progress(f), job.signal);
        return { value: view, result: summary(view) };
      },
    );
    return this.runs.get(job.runId);
  }

  /** The stored results of an evaluation run. */
  async evaluation(runId: string): Promise<EvaluationView> {
    const row = await this.db.prisma.evaluation.findUnique({ where: { id: runId } });
    if (row) return toView(row);
    const run = await this.runs.find(runId);
    if (run?.kind === 'EVALUATE') {
      throw new GanqlError(
        ErrorCode.NOT_FOUND,
        `evaluation ${JSON.stringify(runId)} not found: its run is ${run.status}${run.status === 'RUNNING' ? ' (poll run(id) { status progress })' : ''}`,
      );
    }
    throw notFound('evaluation', runId);
  }

  /** Stored evaluations, newest first, of one model version or of all. */
  async evaluations(modelId: string | null | undefined, first: number): Promise<EvaluationView[]> {
    expectIntInRange('first', first, EVALUATION_LIMITS.first.min, EVALUATION_LIMITS.first.max);
    const rows = await this.db.prisma.evaluation.findMany({
      where: modelId === undefined || modelId === null ? {} : { modelId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: first,
    });
    return rows.map(toView);
  }

  /** The registered scorers. */
  listScorers(): ScorerEntry[] {
    return this.scorers.list();
  }

  /** Sets the gauges from the stored evaluations, so /metrics shows the latest values after a restart. */
  async primeGauges(): Promise<void> {
    const rows = await this.db.prisma.evaluation.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1000 });
    // Oldest first: each metric's gauge ends at its newest value.
    for (const row of rows.reverse()) this.gauges.record({ ...row, at: row.createdAt });
  }

  /** Frees the loaded scorers. */
  dispose(): Promise<void> {
    return this.scorers.dispose();
  }

  /** Checks a request where it enters; throws BAD_USER_INPUT (NOT_FOUND for an unknown model). */
  private plan(request: EvaluateRequest, setModel: (id: string) => void): EvaluationPlan {
    const model = this.registry.resolveGenerating(request.modelId);
    setModel(model.id);
    const metrics = [...new Set(request.metrics)];
    if (metrics.length === 0) throw badInput(`metrics: expected at least one of ${EVALUATION_METRICS.join(', ')}, got none`);
    for (const m of metrics) {
      if (!(EVALUATION_METRICS as readonly string[]).includes(m)) throw badInput(`metrics: expected each of ${EVALUATION_METRICS.join(', ')}, got ${show(m)}`);
    }
    const samples = request.samples ?? EVALUATION_LIMITS.samples.default;
    expectIntInRange('samples', samples, EVALUATION_LIMITS.samples.min, EVALUATION_LIMITS.samples.max);
    const splits = request.splits ?? EVALUATION_LIMITS.splits.default;
    expectIntInRange('splits', splits, EVALUATION_LIMITS.splits.min, EVALUATION_LIMITS.splits.max);
    const seed = checkedSeed('seed', request.seed, EVALUATION_LIMITS.seed.default);
    const scorer = this.scorerFor(model, request.scorer);

    const modelDataset = model.manifest.dataset;
    const dataset = this.datasets.dataset(modelDataset);
    for (const m of metrics.filter((m) => m !== 'INCEPTION_SCORE')) {
      if (!dataset) {
        throw badInput(
          `metrics: expected metrics ganql can compute for dataset ${show(modelDataset)} (only INCEPTION_SCORE: it cannot load that dataset's images), got ${m}`,
        );
      }
    }
    if (dataset && metrics.includes('PARZEN') && !sameShape(dataset.imageShape, model.manifest.imageShape)) {
      throw badInput(
        `metrics: PARZEN compares pixels, so it expects images of ${dataset.imageShape.join('x')} like dataset ${dataset.name}, got a model making ${model.manifest.imageShape.join('x')}`,
      );
    }
    return { model, scorer, dataset: metrics.some((m) => m !== 'INCEPTION_SCORE') ? dataset : undefined, metrics, samples, seed, splits };
  }

  /** The named scorer, which must fit the model (scorerMisfit), or the first fitting one trained on the model's dataset. */
  private scorerFor(model: LoadedModel, name: string | null | undefined): ScorerEntry {
    const all = this.scorers.list();
    const names = all.map((s) => s.name).join(', ') || '(none registered)';
    const misfit = (s: ScorerEntry): string | undefined => scorerMisfit(s, model, (d) => this.datasets.dataset(d));
    if (name === undefined || name === null) {
      const scorer = defaultScorer(all, model, (d) => this.datasets.dataset(d));
      if (!scorer) {
        throw badInput(
          `scorer: expected one of ${names} (none fits ${show(model.manifest.dataset)}, the dataset of model ${model.id}, so one must be named), got none`,
        );
      }
      return scorer;
    }
    const scorer = this.scorers.get(name);
    if (!scorer) throw badInput(`scorer: expected one of ${names}, got ${show(name)}`);
    const why = misfit(scorer);
    if (why !== undefined) throw badInput(`scorer: ${why}`);
    return scorer;
  }

  /** The background part: generate, score, compute, store. */
  private async run(plan: EvaluationPlan, runId: string, progress: (fraction: number) => void, signal: AbortSignal): Promise<EvaluationView> {
    const { model, metrics, dataset } = plan;
    const loaded = await this.scorers.use(plan.scorer.name);
    // Progress: reference statistics (instant when cached) to 0.1, scoring to 0.95, the math after.
    let reference: ReferenceFeatures | undefined;
    if (dataset && (metrics.includes('FID') || metrics.includes('KID'))) {
      reference = await this.referenceFor(loaded, dataset, (f) => progress(0.1 * f), signal);
    }
    progress(0.1);
    const parzen = dataset && metrics.includes('PARZEN') ? parzenSets(await this.datasets.get(dataset.name, 'test')) : undefined;
    const output = await evaluateImages({
      source: this.generatorSource(model, plan.seed),
      samples: plan.samples,
      metrics,
      splits: plan.splits,
      seed: plan.seed,
      scorer: loaded.scorer,
      reference,
      parzen,
      runMetrics: this.runMetrics,
      onProgress: (f) => progress(0.1 + 0.85 * f),
      signal,
    });
    signal.throwIfAborted();
    const row = await this.db.prisma.evaluation.create({
      data: toRow(plan, runId, loaded, reference, parzen && { validation: parzen.validation.rows, test: parzen.test.rows }, output),
    });
    const view = toView(row);
    this.gauges.record({
      modelId: model.id,
      scorer: plan.scorer.name,
      isMean: row.isMean,
      fid: row.fid,
      kidMean: row.kidMean,
      parzenMean: row.parzenMean,
      at: row.createdAt,
    });
    this.log.info('evaluation finished', { runId, modelId: model.id, scorer: plan.scorer.name, ...summary(view) });
    return view;
  }

  /** Samples of the model from seededLatents(seed), through the shared pool chunk by chunk. */
  private generatorSource(model: GeneratingModel, seed: number): ImageSource {
    const next = seededLatentStream(seed, model.manifest.latentSize);
    const [h, w, c] = model.manifest.imageShape;
    return {
      imageShape: model.manifest.imageShape,
      range: model.manifest.outputRange,
      read: async (_start, count) => {
        const images = await this.pool.generate(model.id, next(count));
        const out = new Float32Array(count * h * w * c);
        images.forEach((image, i) => out.set(image, i * h * w * c));
        return out;
      },
    };
  }

  /** Reference features of the dataset's training split: from memory, the database, or computed once and stored. */
  private referenceFor(
    loaded: LoadedScorerEntry,
    dataset: ReferenceDataset,
    onProgress: (fraction: number) => void,
    signal: AbortSignal,
  ): Promise<ReferenceFeatures> {
    const key: ReferenceKey = { scorer: loaded.entry.name, scorerDigest: loaded.digest, dataset: dataset.name, split: REFERENCE_SPLIT };
    const cacheKey = JSON.stringify(key);
    let pending = this.references.get(cacheKey);
    if (!pending) {
      pending = (async () => {
        const stored = await this.referenceStore.get(key);
        if (stored) return stored;
        const started = performance.now();
        const split = await this.datasets.get(dataset.name, REFERENCE_SPLIT);
        const reference = await computeReference(loaded.scorer, split, { onProgress: (done) => onProgress(done / split.count), signal });
        await this.referenceStore.put(key, reference);
        this.log.info('reference statistics computed', {
          scorer: key.scorer,
          dataset: key.dataset,
          images: split.count,
          ms: Math.round(performance.now() - started),
        });
        return reference;
      })();
      this.references.set(cacheKey, pending);
      pending.catch(() => this.references.delete(cacheKey));
    }
    return pending;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

type EvaluationRow = Awaited<ReturnType<Database['prisma']['evaluation']['create']>>;

function toRow(
  plan: EvaluationPlan,
  runId: string,
  loaded: LoadedScorerEntry,
  reference: ReferenceFeatures | undefined,
  parzenSizes: { validation: number; test: number } | undefined,
  output: MetricsOutput & { parzenSamples?: number },
) {
  const details: EvaluationDetails = { scorerDigest: loaded.digest };
  if (output.inceptionScore) details.inceptionScore = { splitScores: output.inceptionScore.splitScores };
  if (output.kid) details.kid = { subsetSize: output.kid.subsetSize, subsets: output.kid.subsets };
  if (output.parzen && parzenSizes) {
    details.parzen = {
      samples: output.parzenSamples ?? 0,
      validationImages: parzenSizes.validation,
      testImages: parzenSizes.test,
      validation: output.parzen.validation,
    };
  }
  if (reference) details.reference = { split: REFERENCE_SPLIT, images: reference.stats.count, featureRows: reference.features.rows };
  return {
    id: runId,
    modelId: plan.model.id,
    scorer: plan.scorer.name,
    dataset: plan.model.manifest.dataset,
    samples: plan.samples,
    seed: plan.seed,
    splits: plan.splits,
    metrics: JSON.stringify(plan.metrics),
    isMean: output.inceptionScore?.mean ?? null,
    isStd: output.inceptionScore?.std ?? null,
    fid: output.fid ?? null,
    kidMean: output.kid?.mean ?? null,
    kidStd: output.kid?.std ?? null,
    parzenMean: output.parzen?.mean ?? null,
    parzenStdErr: output.parzen?.stdErr ?? null,
    parzenSigma: output.parzen?.sigma ?? null,
    details: JSON.stringify(details),
  };
}

function toView(row: EvaluationRow): EvaluationView {
  // Both JSON columns are only ever written by toRow above.
  const details = JSON.parse(row.details) as EvaluationDetails;
  const metrics = JSON.parse(row.metrics) as EvaluationMetric[];
  return {
    runId: row.id,
    modelId: row.modelId,
    scorer: row.scorer,
    dataset: row.dataset,
    samples: row.samples,
    seed: row.seed,
    splits: row.splits,
    metrics,
    inceptionScore:
      row.isMean === null || row.isStd === null ? null : { mean: row.isMean, std: row.isStd, splitScores: details.inceptionScore?.splitScores ?? [] },
    fid: row.fid,
    kid:
      row.kidMean === null || row.kidStd === null
        ? null
        : { mean: row.kidMean, std: row.kidStd, subsetSize: details.kid?.subsetSize ?? 0, subsets: details.kid?.subsets ?? 0 },
    parzen:
      row.parzenMean === null || row.parzenStdErr === null || row.parzenSigma === null
        ? null
        : {
            mean: row.parzenMean,
            stdErr: row.parzenStdErr,
            sigma: row.parzenSigma,
            samples: details.parzen?.samples ?? 0,
            validationImages: details.parzen?.validationImages ?? 0,
            testImages: details.parzen?.testImages ?? 0,
          },
    referenceImages: details.reference?.images ?? null,
    createdAt: row.createdAt,
  };
}

/** The run's result summary: the headline numbers. */
function summary(view: EvaluationView): Record<string, number | null> {
  return { isMean: view.inceptionScore?.mean ?? null, fid: view.fid, kidMean: view.kid?.mean ?? null, parzenMean: view.parzen?.mean ?? null };
}
