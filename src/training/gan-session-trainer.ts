import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TrainingData } from '../data/training-data';
import { gridPng } from '../images/grid';
import { freezeVirtualBatchNorm } from '../models/freeze-vbn';
import { saveLayersModel } from '../models/io';
import { kPlusOneClassifierOf } from '../models/kplusone-mlp';
import { withPlainDense } from '../models/layers/weight-norm-dense';
import { adamState, restoreAdam, tensorsNamed, type OptimizerRecord } from './checkpoint';
import { DcganTrainer, seededNoise, vbnReferenceNoise } from './dcgan-trainer';
import { isEvalEpoch, type EpochEvaluator } from './epoch-evaluation';
import type { Models } from './gan-models';
import { classificationError, KPlusOneTrainer } from './kplusone-trainer';
import type { EpochMetrics, EpochRecord, ServedVersion, SessionTrainer, TrainedEpoch, TrainerState, TrainerStepEvent } from './session-trainer';
import type { TrainingSpec } from './training-spec';

/** Images in the per-epoch grid (8x8). */
const SAMPLE_COUNT = 64;
/** The fixed noise of the sample grids is seeded apart from the training noise (as the CLI always did). */
export const SAMPLE_NOISE_SALT = 1_000_003;

/** state.json fields of a GAN or K+1 checkpoint. */
interface GanCheckpointFields {
  /** Adam's iteration count is in the tensors; its beta powers are kept bit-exact here. */
  optimizers: { g: OptimizerRecord; d: OptimizerRecord };
  historicalAverageSteps?: number;
  /** Updates folded into the moving average of D (K+1 training). */
  movingAverageSteps?: number;
  /** Updates folded into the moving average of G (spec.generatorAverage). */
  generatorAverageSteps?: number;
}

/**
 * A GAN or K+1 trainer as the session sees it: G and D, their optimizers and running means, the grid
 * of G on fixed noise, and the per-epoch evaluation. With a moving average of G (spec.generatorAverage)
 * the grids, the evaluation and the saved G are those of the averaged G (its batchnorm statistics
 * recomputed for the averages); training and the checkpoint's networks keep the live weights.
 */
export class GanSessionTrainer implements SessionTrainer {
  readonly networks: Readonly<Record<string, tf.LayersModel>>;
  private readonly fixedNoise: Float32Array;

  constructor(
    private readonly spec: TrainingSpec,
    private readonly models: Models,
    private readonly trainer: DcganTrainer | KPlusOneTrainer,
    private readonly data: TrainingData,
    /** K+1: the held-out split the classifier's test error is measured on. */
    private readonly test: TrainingData | undefined,
    /** spec.evalEvery: scores G's samples after the epochs it names. */
    private readonly evaluator?: EpochEvaluator,
  ) {
    this.networks = { generator: models.generator, discriminator: models.discriminator };
    this.fixedNoise = seededNoise(SAMPLE_COUNT, spec.latentSize, spec.seed + SAMPLE_NOISE_SALT);
  }

  stepsPerEpoch(): number {
    return this.trainer.stepsPerEpoch();
  }

  /** K+1: the k unlabelled batches of a step; the labelled batches cycled beside them are not counted, so an epoch is one pass over the training images. */
  imagesPerStep(): number {
    return this.spec.batchSize * this.spec.k;
  }

  async trainEpoch(epoch: number, onStep: (e: TrainerStepEvent) => void, shouldStop: () => boolean): Promise<TrainedEpoch> {
    const stats = await this.trainer.trainEpoch(epoch, (p) => onStep({ ...p, epoch: epoch + 1 }), undefined, shouldStop);
    return {
      steps: stats.steps,
      losses: { generator: stats.generator, discriminator: stats.discriminator },
      metrics: { dAccuracyReal: stats.dAccuracyReal, dAccuracyFake: stats.dAccuracyFake },
    };
  }

  async heldOutMetrics(epoch: number): Promise<EpochMetrics> {
    const test = this.test;
    const metrics: EpochMetrics =
      test === undefined ? {} : { testError: this.withAveragedD(() => classificationError(this.models.discriminator, test, test.shape)) };
    const evaluator = this.evaluator;
    if (evaluator !== undefined && isEvalEpoch(this.spec, epoch)) {
      const scores = await this.withServedGAsync(() => evaluator.evaluate((latents, count) => this.trainer.generate(latents, count)));
      Object.assign(metrics, scores);
    }
    return metrics;
  }

  samplesPng(): Buffer {
    const images = this.withServedG(() => this.trainer.generate(this.fixedNoise, SAMPLE_COUNT));
    // Both datasets are grayscale 28x28.
    return gridPng(images, {
      width: this.data.shape[1],
      height: this.data.shape[0],
      channels: 1,
      range: [-1, 1],
      columns: 8,
    });
  }

  describe(r: EpochRecord): string {
    const testError = r.testError !== undefined ? `, test error ${(r.testError * 100).toFixed(2)}%` : '';
    const scores =
      r.inceptionScore !== undefined && r.fid !== undefined
        ? `, IS ${r.inceptionScore.toFixed(3)} ± ${(r.inceptionScoreStd ?? 0).toFixed(3)} FID ${r.fid.toFixed(2)} (${this.spec.evalSamples} samples)`
        : '';
    return `D ${r.losses.discriminator.toFixed(4)} G ${r.losses.generator.toFixed(4)}, D accuracy real ${(r.dAccuracyReal ?? 0).toFixed(3)} fake ${(r.dAccuracyFake ?? 0).toFixed(3)}${testError}${scores}`;
  }

  async checkpointState(): Promise<TrainerState> {
    const t = this.trainer;
    const g = await adamState(t.gOptimizer, 'g');
    const d = await adamState(t.dOptimizer, 'd');
    const means = [...(t.gAverage?.snapshot() ?? []), ...(t.dAverage?.snapshot() ?? [])];
    const moving = this.movingAverage();
    const averages = moving?.snapshot() ?? [];
    const gMoving = this.generatorAverage();
    const gAverages = gMoving?.snapshot() ?? [];
    const fields: GanCheckpointFields = {
      optimizers: { g: g.record, d: d.record },
      ...(t.gAverage !== null ? { historicalAverageSteps: t.gAverage.count } : {}),
      ...(moving !== null ? { movingAverageSteps: moving.count } : {}),
      ...(gMoving !== null ? { generatorAverageSteps: gMoving.count } : {}),
    };
    return {
      fields: { ...fields },
      tensors: [
        ...g.tensors,
        ...d.tensors,
        ...means.map((tensor, i) => ({ name: `mean/${i}`, tensor })),
        ...averages.map((tensor, i) => ({ name: `avg/${i}`, tensor })),
        ...gAverages.map((tensor, i) => ({ name: `gavg/${i}`, tensor })),
      ],
      // The snapshots are copies made for the checkpoint.
      fresh: [...g.fresh, ...d.fresh, ...means, ...averages, ...gAverages],
    };
  }

  async restoreState(saved: Readonly<Record<string, unknown>>, tensors: tf.NamedTensorMap): Promise<void> {
    // Written by checkpointState.
    const fields = saved as unknown as GanCheckpointFields;
    const t = this.trainer;
    await restoreAdam(t.gOptimizer, 'g', fields.optimizers.g, tensors);
    await restoreAdam(t.dOptimizer, 'd', fields.optimizers.d, tensors);
    if (t.gAverage !== null && t.dAverage !== null) {
      const means = tensorsNamed(tensors, 'mean');
      const gCount = t.generator.trainableWeights.length;
      const steps = fields.historicalAverageSteps ?? 0;
      t.gAverage.restore(means.slice(0, gCount), steps);
      t.dAverage.restore(means.slice(gCount), steps);
    }
    this.movingAverage()?.restore(tensorsNamed(tensors, 'avg'), fields.movingAverageSteps ?? 0);
    this.generatorAverage()?.restore(tensorsNamed(tensors, 'gavg'), fields.generatorAverageSteps ?? 0);
  }

  /** Saves G (averaged, VBN frozen, weight norm folded into plain dense layers), D and the K+1 classifier. */
  async saveServed(dir: string): Promise<ServedVersion> {
    const { spec, models } = this;
    await this.withServedGAsync(() => this.saveGenerator(dir));
    await saveLayersModel(models.discriminator, path.join(dir, 'discriminator'));
    if (spec.mode === 'kplusone') await this.saveClassifier(dir);
    return {
      architecture: spec.architecture,
      latentSize: spec.latentSize,
      generatorPath: 'generator',
      discriminatorPath: 'discriminator',
      ...(spec.mode === 'kplusone' ? { classifier: { path: 'classifier', classes: [...this.data.classes], inputRange: [-1, 1] as [number, number] } } : {}),
      architectureConfig: {
        ...models.architectureConfig,
        ...techniqueRecord(spec),
        ...(this.evaluator !== undefined ? { evalScorer: this.evaluator.scorerName } : {}),
      },
    };
  }

  dispose(): void {
    this.trainer.dispose();
  }

  private async saveGenerator(dir: string): Promise<void> {
    const { spec, models } = this;
    const vbn = spec.techniques.virtualBatchNorm;
    let frozen: tf.LayersModel | null = null;
    if (vbn !== undefined) {
      const reference = vbnReferenceNoise(vbn.referenceSize, spec.latentSize, spec.seed);
      try {
        frozen = await freezeVirtualBatchNorm(models.generator, reference);
      } finally {
        reference.dispose();
      }
    }
    // Weight-normalised layers (the K+1 MLP's output layer) become plain dense ones: the saved generator uses standard layers only.
    let plain: tf.LayersModel | null = null;
    try {
      plain = await withPlainDense(frozen ?? models.generator);
      await saveLayersModel(plain ?? frozen ?? models.generator, path.join(dir, 'generator'));
    } finally {
      plain?.dispose();
      frozen?.dispose();
    }
  }

  /**
   * The MLP's D carries noise layers; the served classifier is the same network without them.
   * The classifier is served with the averaged parameters its test error was measured with.
   */
  private async saveClassifier(dir: string): Promise<void> {
    const { discriminator, kPlusOneConfig: config } = this.models;
    if (config === undefined) {
      const average = this.movingAverage();
      const save = (): Promise<void> => saveLayersModel(discriminator, path.join(dir, 'classifier'));
      await (average === null ? save() : average.withAveragesAsync(save));
      return;
    }
    const classifier = this.withAveragedD(() => kPlusOneClassifierOf(discriminator, config));
    try {
      await saveLayersModel(classifier, path.join(dir, 'classifier'));
    } finally {
      classifier.dispose();
    }
  }

  /** fn with D at its moving average (K+1 training with averaging), else as it is. */
  private withAveragedD<T>(fn: () => T): T {
    return this.trainer instanceof KPlusOneTrainer ? this.trainer.withAveragedDiscriminator(fn) : fn();
  }

  private movingAverage(): KPlusOneTrainer['dMovingAverage'] {
    return this.trainer instanceof KPlusOneTrainer ? this.trainer.dMovingAverage : null;
  }

  /** The moving average of G (GAN training with spec.generatorAverage), or null. */
  private generatorAverage(): DcganTrainer['gMovingAverage'] {
    return this.trainer instanceof DcganTrainer ? this.trainer.gMovingAverage : null;
  }

  /** fn with G as it is served: at its moving average when there is one, else as it is. */
  private withServedG<T>(fn: () => T): T {
    const average = this.generatorAverage();
    return average === null ? fn() : average.use(fn);
  }

  private withServedGAsync<T>(fn: () => Promise<T>): Promise<T> {
    const average = this.generatorAverage();
    return average === null ? fn() : average.useAsync(fn);
  }
}

/** The switches that are on, flattened for the manifest's architectureConfig. */
function techniqueRecord(spec: TrainingSpec): Record<string, number | string> {
  const t = spec.techniques;
  const record: Record<string, number | string> = { mode: spec.mode, k: spec.k, generatorLoss: spec.generatorLoss };
  if (spec.labelsPerClass !== undefined) record.labelsPerClass = spec.labelsPerClass;
  if (t.labelSmoothing !== undefined) record.labelSmoothing = t.labelSmoothing;
  if (t.featureMatching !== undefined) record.featureMatchingLayer = t.featureMatching.layer;
  if (t.historicalAveraging !== undefined) record.historicalAveragingWeight = t.historicalAveraging.weight;
  if (t.minibatchDiscrimination !== undefined) {
    record.minibatchKernels = t.minibatchDiscrimination.kernels;
    record.minibatchKernelDim = t.minibatchDiscrimination.kernelDim;
  }
  if (t.virtualBatchNorm !== undefined) record.virtualBatchNormReferenceSize = t.virtualBatchNorm.referenceSize;
  if (spec.generatorAverage !== undefined) record.generatorAverageRate = spec.generatorAverage;
  if (spec.evalEvery !== undefined) record.evalEvery = spec.evalEvery;
  if (spec.evalSamples !== undefined) record.evalSamples = spec.evalSamples;
  if (spec.limit !== undefined) record.limit = spec.limit;
  return record;
}
