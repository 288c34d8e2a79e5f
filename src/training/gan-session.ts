import type * as tf from '@tensorflow/tfjs';
import { loadTrainingData, type TrainingData } from '../data/training-data';
import { loadFineTuneWeights } from '../models/copy-weights';
import { defaultDcganConfig } from '../models/dcgan';
import { DcganTrainer } from './dcgan-trainer';
import { runEpochs } from './epoch-loop';
import { EpochEvaluator } from './epoch-evaluation';
import { buildModels, initFromData } from './gan-models';
import { GanSessionTrainer } from './gan-session-trainer';
import { KPlusOneTrainer } from './kplusone-trainer';
import { labelledExamples, type LabelledImages } from './labelled-examples';
import { DEFAULT_SCORERS_DIR, type SessionOptions, type SessionResult } from './session-options';
import type { TrainingSpec } from './training-spec';

/** Unsupervised weight of the K+1 loss: the paper's code (0.5 on each unsupervised term). */
const K_PLUS_ONE_UNSUPERVISED_WEIGHT = 0.5;
/**
 * Rate of the moving average of D's parameters that the K+1 classifier is evaluated and served with.
 * The paper's code uses 0.0001 over 180,000 steps; ours run ~100x fewer steps, so the window is ~200 steps.
 */
export const K_PLUS_ONE_AVERAGE_RATE = 0.005;

/**
 * GAN and K+1 modes of runTrainingSession: G and D built for the spec, started from scratch (D's
 * weight norm initialised on data), from a checkpoint, or from a version to fine-tune; trained by
 * DcganTrainer or KPlusOneTrainer through the epoch loop; with spec.evalEvery, scored by the dataset's scorer.
 */
export async function runGanSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  const log = options.log ?? (() => undefined);
  const data = await loadTrainingData(spec.dataset, 'train', { limit: spec.limit });
  log(`${spec.dataset}: ${data.count} training images`);

  let labelled: LabelledImages | undefined;
  let test: TrainingData | undefined;
  if (spec.mode === 'kplusone') {
    labelled = labelledExamples(data, spec.labelsPerClass ?? 0, spec.seed);
    test = await loadTrainingData(spec.dataset, 'test');
    log(`kplusone: ${labelled.count} labelled of ${data.count} training images, ${test.count} held-out test images`);
  }

  // The scorer and its reference features first: a dataset without a scorer fails before any training.
  const evaluator = spec.evalEvery === undefined ? undefined : await EpochEvaluator.open(spec, data.shape, options.scorersDir ?? DEFAULT_SCORERS_DIR, log);
  try {
    return await trainModels(spec, options, { data, labelled, test, evaluator });
  } finally {
    await evaluator?.dispose();
  }
}

/** Builds G and D, starts them from scratch, a checkpoint or a version to fine-tune, and runs the epochs. */
async function trainModels(
  spec: TrainingSpec,
  options: SessionOptions,
  inputs: { data: TrainingData; labelled?: LabelledImages; test?: TrainingData; evaluator?: EpochEvaluator },
): Promise<SessionResult> {
  const log = options.log ?? (() => undefined);
  const { data, labelled, test, evaluator } = inputs;
  const models = buildModels(spec, data.classes.length);
  const { generator, discriminator } = models;
  let trainer: GanSessionTrainer | undefined;
  try {
    // A resumed run takes its weights from the checkpoint below, once the trainer exists.
    if (!options.resume && options.fineTuneFrom !== undefined) {
      await loadFineTuneWeights(
        options.fineTuneFrom,
        {
          architecture: spec.architecture,
          latentSize: spec.latentSize,
          imageShape: data.shape,
          ...(spec.architecture === 'dcgan' ? { filters: spec.filters ?? defaultDcganConfig.generatorFilters } : {}),
        },
        generator,
        discriminator,
      );
      log(`fine-tuning from ${options.fineTuneFrom}`);
    } else if (!options.resume) {
      initFromData(discriminator, data, spec.seed);
    }
    trainer = new GanSessionTrainer(spec, models, makeTrainer(spec, models.generator, models.discriminator, data, labelled), data, test, evaluator);
    return await runEpochs(trainer, spec, data, options);
  } finally {
    trainer?.dispose();
    generator.dispose();
    discriminator.dispose();
  }
}

function makeTrainer(
  spec: TrainingSpec,
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  data: TrainingData,
  labelled: LabelledImages | undefined,
): DcganTrainer | KPlusOneTrainer {
  const images = { images: data.images, count: data.count, shape: data.shape };
  const t = spec.techniques;
  const common = { batchSize: spec.batchSize, learningRate: spec.learningRate, beta1: spec.beta1, k: spec.k, seed: spec.seed };
  if (spec.mode === 'kplusone') {
    if (labelled === undefined || t.featureMatching === undefined)
      throw new Error('kplusone: expected labelled images and a feature-matching layer (checkTrainingSpec ensures both)');
    return new KPlusOneTrainer(generator, discriminator, images, labelled, {
      ...common,
      featureLayer: t.featureMatching.layer,
      featureBatch: t.featureMatching.batch ?? 'step',
      unsupervisedWeight: K_PLUS_ONE_UNSUPERVISED_WEIGHT,
      averageRate: K_PLUS_ONE_AVERAGE_RATE,
      historicalAveraging: t.historicalAveraging,
      virtualBatchNorm: t.virtualBatchNorm,
    });
  }
  return new DcganTrainer(generator, discriminator, images, {
    ...common,
    generatorLoss: spec.generatorLoss,
    labelSmoothing: t.labelSmoothing,
    featureMatching: t.featureMatching,
    historicalAveraging: t.historicalAveraging,
    minibatchDiscrimination: t.minibatchDiscrimination,
    virtualBatchNorm: t.virtualBatchNorm,
    generatorAverage: spec.generatorAverage,
  });
}
