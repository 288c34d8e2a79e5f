import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadTrainingData, type TrainingData } from '../data/training-data';
import { badInput } from '../errors/ganql-error';
import { gridPng } from '../images/grid';
import { saveLayersModel } from '../models/io';
import { buildKPlusOneDiscriminator, kPlusOneClassifierOf, resolveKPlusOneMlpConfig, type KPlusOneMlpConfig } from '../models/kplusone-mlp';
import { adamState, restoreAdam, tensorsNamed, type OptimizerRecord } from './checkpoint';
import { runEpochs } from './epoch-loop';
import { initFromData } from './gan-models';
import { K_PLUS_ONE_AVERAGE_RATE } from './gan-session';
import { classificationError } from './kplusone-trainer';
import { labelledExamples } from './labelled-examples';
import type { SessionOptions, SessionResult } from './session-options';
import type { EpochMetrics, EpochRecord, ServedVersion, SessionTrainer, TrainedEpoch, TrainerState, TrainerStepEvent } from './session-trainer';
import { SupervisedTrainer } from './supervised-trainer';
import type { TrainingSpec } from './training-spec';

/** Held-out images in the per-epoch grid (8x8): the first of the test split, the same every epoch. */
const GRID_IMAGES = 64;

/**
 * Supervised mode of runTrainingSession: the K+1 MLP discriminator of kplusone mode (same builder,
 * seed, weight norm and noise), its weight norm initialised on the labelled examples alone, trained
 * by SupervisedTrainer on the labelled examples kplusone mode would pick for the seed, and the
 * unlabelled images left unused: the supervised-only baseline of Salimans et al.'s Table 1. The
 * version holds the discriminator and the served classifier and no generator. Events reuse the GAN
 * fields: losses.discriminator = the cross-entropy, losses.generator = 0, dAccuracyReal = dAccuracyFake = 0.
 */
export async function runSupervisedSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  const log = options.log ?? (() => undefined);
  if (options.fineTuneFrom !== undefined) {
    throw badInput(`fineTuneFrom: expected none in supervised mode (the supervised baseline trains from scratch), got ${JSON.stringify(options.fineTuneFrom)}`);
  }
  const data = await loadTrainingData(spec.dataset, 'train', { limit: spec.limit });
  const labelled = labelledExamples(data, spec.labelsPerClass ?? 0, spec.seed);
  const test = await loadTrainingData(spec.dataset, 'test');
  log(`supervised: ${labelled.count} labelled of ${data.count} training images (the others unused), ${test.count} held-out test images`);
  // kplusone mode's D for this seed: the same initial weights.
  const config = resolveKPlusOneMlpConfig({ seed: spec.seed, classes: data.classes.length });
  const discriminator = buildKPlusOneDiscriminator(config);
  let trainer: SupervisedSessionTrainer | undefined;
  try {
    // A resumed run takes its weights from the checkpoint.
    if (!options.resume) initFromData(discriminator, { images: labelled.images, count: labelled.count, shape: data.shape }, spec.seed);
    const inner = new SupervisedTrainer(discriminator, labelled, data.shape, {
      batchSize: spec.batchSize,
      learningRate: spec.learningRate,
      beta1: spec.beta1,
      seed: spec.seed,
      averageRate: K_PLUS_ONE_AVERAGE_RATE,
      // K+1's updates per epoch (KPlusOneTrainer.stepsPerEpoch with k = 1): the same number of labelled batches.
      stepsPerEpoch: Math.max(1, Math.floor(data.count / spec.batchSize)),
    });
    trainer = new SupervisedSessionTrainer(spec, config, inner, data, test);
    // The version records the examples it learned from: the labelled ones.
    return await runEpochs(trainer, spec, { count: labelled.count, shape: data.shape }, options);
  } finally {
    trainer?.dispose();
    discriminator.dispose();
  }
}

/** state.json fields of a supervised checkpoint. */
interface SupervisedCheckpointFields {
  /** D's Adam: its iteration count and moments are in the tensors, its beta powers here. */
  optimizer: OptimizerRecord;
  /** Updates folded into the moving average of D. */
  movingAverageSteps: number;
}

/** SupervisedTrainer as the session sees it: its grid shows which of fixed held-out images the classifier gets wrong. */
class SupervisedSessionTrainer implements SessionTrainer {
  readonly networks: Readonly<Record<string, tf.LayersModel>>;

  constructor(
    private readonly spec: TrainingSpec,
    private readonly config: KPlusOneMlpConfig,
    private readonly trainer: SupervisedTrainer,
    private readonly data: TrainingData,
    private readonly test: TrainingData,
  ) {
    this.networks = { discriminator: trainer.discriminator };
  }

  stepsPerEpoch(): number {
    return this.trainer.stepsPerEpoch();
  }

  imagesPerStep(): number {
    return this.spec.batchSize;
  }

  async trainEpoch(epoch: number, onStep: (e: TrainerStepEvent) => void, shouldStop: () => boolean): Promise<TrainedEpoch> {
    const stats = await this.trainer.trainEpoch(
      epoch,
      (p) =>
        onStep({
          epoch: epoch + 1,
          step: p.step,
          stepsPerEpoch: p.stepsPerEpoch,
          losses: { generator: 0, discriminator: p.loss },
          msPerStep: p.msPerStep,
        }),
      shouldStop,
    );
    return { steps: stats.steps, losses: { generator: 0, discriminator: stats.loss }, metrics: {} };
  }

  /** The test error of the averaged classifier, as kplusone mode measures it. */
  heldOutMetrics(): Promise<EpochMetrics> {
    const { discriminator } = this.trainer;
    return Promise.resolve({ testError: this.trainer.withAveragedDiscriminator(() => classificationError(discriminator, this.test, this.test.shape)) });
  }

  /** The first 64 held-out images, 8 a row: those the averaged classifier gets right in grey, those it gets wrong in red. */
  samplesPng(): Buffer {
    const [height, width, channels] = this.test.shape;
    const size = height * width * channels;
    const n = Math.min(GRID_IMAGES, this.test.count);
    const images = this.test.images.subarray(0, n * size);
    const predicted = this.trainer.withAveragedDiscriminator(() => {
      const classes = tf.tidy(() => tf.argMax(this.trainer.discriminator.predict(tf.tensor4d(images, [n, height, width, channels])) as tf.Tensor2D, 1));
      try {
        return classes.dataSync();
      } finally {
        classes.dispose();
      }
    });
    const tiles = Array.from({ length: n }, (_, i) => {
      const tile = new Float32Array(size * 3);
      const wrong = predicted[i] !== this.test.labels[i];
      for (let p = 0; p < size; p++) {
        // Both datasets are grayscale in [-1, 1]: a wrong image keeps its red channel, its green and blue go black.
        const v = images[i * size + p];
        tile[p * 3] = v;
        tile[p * 3 + 1] = wrong ? -1 : v;
        tile[p * 3 + 2] = wrong ? -1 : v;
      }
      return tile;
    });
    return gridPng(tiles, { width, height, channels: 3, range: [-1, 1], columns: 8 });
  }

  describe(r: EpochRecord): string {
    return `cross-entropy ${r.losses.discriminator.toFixed(4)}, test error ${((r.testError ?? 0) * 100).toFixed(2)}%`;
  }

  async checkpointState(): Promise<TrainerState> {
    const adam = await adamState(this.trainer.optimizer, 'd');
    const average = this.trainer.movingAverage;
    const averages = average?.snapshot() ?? [];
    const fields: SupervisedCheckpointFields = { optimizer: adam.record, movingAverageSteps: average?.count ?? 0 };
    return {
      fields: { ...fields },
      tensors: [...adam.tensors, ...averages.map((tensor, i) => ({ name: `avg/${i}`, tensor }))],
      // The snapshots are copies made for the checkpoint.
      fresh: [...adam.fresh, ...averages],
    };
  }

  async restoreState(saved: Readonly<Record<string, unknown>>, tensors: tf.NamedTensorMap): Promise<void> {
    // Written by checkpointState.
    const fields = saved as unknown as SupervisedCheckpointFields;
    await restoreAdam(this.trainer.optimizer, 'd', fields.optimizer, tensors);
    this.trainer.movingAverage?.restore(tensorsNamed(tensors, 'avg'), fields.movingAverageSteps);
  }

  /** Saves D as trained and the served classifier (plain dense layers, no noise) at D's moving average, as kplusone mode does; no generator. */
  async saveServed(dir: string): Promise<ServedVersion> {
    const { spec, config, trainer } = this;
    await saveLayersModel(trainer.discriminator, path.join(dir, 'discriminator'));
    const classifier = trainer.withAveragedDiscriminator(() => kPlusOneClassifierOf(trainer.discriminator, config));
    try {
      await saveLayersModel(classifier, path.join(dir, 'classifier'));
    } finally {
      classifier.dispose();
    }
    return {
      architecture: spec.architecture,
      discriminatorPath: 'discriminator',
      classifier: { path: 'classifier', classes: [...this.data.classes], inputRange: [-1, 1] },
      architectureConfig: {
        mode: spec.mode,
        imageSize: config.imageSize,
        classes: config.classes,
        discriminatorUnits: config.discriminatorUnits.join('-'),
        inputNoise: config.inputNoise,
        hiddenNoise: config.hiddenNoise,
        seed: config.seed,
        ...(spec.labelsPerClass !== undefined ? { labelsPerClass: spec.labelsPerClass } : {}),
        ...(trainer.movingAverage !== null ? { averageRate: trainer.movingAverage.rate } : {}),
        ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      },
    };
  }

  dispose(): void {
    this.trainer.dispose();
  }
}
