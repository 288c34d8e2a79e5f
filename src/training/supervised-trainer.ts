import * as tf from '@tensorflow/tfjs';
import { reseedNoise } from '../models/layers/seeded-random-layer';
import { supervisedLoss } from './k-plus-one';
import { LabelledCycle, type LabelledBatch, type LabelledImages } from './labelled-examples';
import { FusedAdamOptimizer } from './optim/fused-adam';
import { ParameterAverage } from './techniques/parameter-average';
import { variablesOf } from './trainable-variables';

export interface SupervisedTrainerOptions {
  /** Labelled images per update; 100 as in the K+1 runs it is the baseline of. */
  batchSize: number;
  /** Adam learning rate; 0.003 as the K+1 MNIST runs. */
  learningRate: number;
  /** Adam beta1; 0.5 as the K+1 runs. */
  beta1: number;
  /** Seed of the labelled batch order (the K+1 run's, LabelledCycle) and of D's noise layers. */
  seed: number;
  /** Rate of the moving average of D's parameters the classifier is evaluated and served with, as K+1's; off when absent. */
  averageRate?: number;
  /**
   * Updates per epoch: the K+1 run's, floor(training images / batchSize) (its epoch is a pass over the
   * unlabelled images), so the baseline takes as many labelled batches as K+1 does and the gain in
   * the table comes from the unlabelled images, not from more updates. Default: one pass over the
   * labelled examples, floor(labelled / batchSize).
   */
  stepsPerEpoch?: number;
}

/** One update done: the mean cross-entropy of its batch. */
export interface SupervisedStepProgress {
  /** 0-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  loss: number;
  msPerStep: number;
}

/** An epoch's mean cross-entropy over the updates it did. */
export interface SupervisedEpochStats {
  loss: number;
  steps: number;
}

/**
 * The supervised-only baseline of Salimans et al. 2016's Table 1: the K+1 discriminator (its K logits,
 * no "generated" class) trained on the labelled examples alone by cross-entropy, with everything else
 * as KPlusOneTrainer trains it: the same Adam (epsilon inside the root), the same labelled batches in
 * the same order for a seed (LabelledCycle), the same noise streams in D, the same parameter average.
 * An epoch is options.stepsPerEpoch updates (a session passes K+1's), by default one pass over the
 * labelled examples. The model stays owned by the caller;
 * dispose() frees the optimizer and the average.
 */
export class SupervisedTrainer {
  readonly optimizer: tf.AdamOptimizer;
  /** The moving average of D's parameters (averageRate), or null. */
  readonly movingAverage: ParameterAverage | null = null;
  private readonly vars: tf.Variable[];

  constructor(
    readonly discriminator: tf.LayersModel,
    readonly labelled: LabelledImages,
    readonly shape: [number, number, number],
    readonly options: SupervisedTrainerOptions,
  ) {
    const { batchSize, learningRate, beta1, averageRate } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${batchSize}`);
    const steps = options.stepsPerEpoch;
    if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new Error(`stepsPerEpoch: expected a positive integer, got ${steps}`);
    const imageSize = shape[0] * shape[1] * shape[2];
    if (labelled.count < 1 || labelled.images.length !== labelled.count * imageSize || labelled.labels.length !== labelled.count) {
      throw new Error(
        `labelled images: expected count >= 1 with count*${imageSize} values and count labels, got count ${labelled.count}, ${labelled.images.length} values, ${labelled.labels.length} labels`,
      );
    }
    const input = discriminator.inputs[0].shape.slice(1).join();
    if (input !== shape.join()) throw new Error(`discriminator input: expected [${shape}], got [${input}]`);
    const classes = discriminator.outputs[0].shape[1] ?? NaN;
    if (!(classes >= 2)) throw new Error(`discriminator: expected K >= 2 class logits, got output [${discriminator.outputs[0].shape}]`);
    const maxLabel = labelled.labels.reduce((m, l) => Math.max(m, l), 0);
    if (maxLabel >= classes) throw new Error(`labelled images: expected labels in 0..${classes - 1}, got ${maxLabel}`);
    // KPlusOneTrainer's optimizer for D (see there why epsilon sits inside the root).
    this.optimizer = new FusedAdamOptimizer(learningRate, beta1, 0.999, 1e-8, { epsilonInside: true });
    this.vars = variablesOf(discriminator);
    if (averageRate !== undefined) this.movingAverage = new ParameterAverage(this.vars, averageRate);
  }

  /** Updates per epoch: options.stepsPerEpoch, else one pass over the labelled examples, at least one update. */
  stepsPerEpoch(): number {
    return this.options.stepsPerEpoch ?? Math.max(1, Math.floor(this.labelled.count / this.options.batchSize));
  }

  /** One update on `batch`: D in training mode (noise on, drawn from stream `noiseStream`); returns the batch's mean cross-entropy. */
  trainStep(batch: LabelledBatch, noiseStream: number): number {
    reseedNoise(this.discriminator, noiseStream);
    const cost = tf.tidy(
      () =>
        this.optimizer.minimize(
          () => supervisedLoss(this.discriminator.apply(batch.images, { training: true }) as tf.Tensor2D, batch.labels),
          true,
          this.vars,
        ) as tf.Scalar,
    );
    // Read outside the tidy (see TFJS-NOTES).
    const loss = cost.dataSync()[0];
    cost.dispose();
    this.movingAverage?.update();
    return loss;
  }

  /**
   * Epoch `epoch` (0-based): stepsPerEpoch() updates on the labelled batches LabelledCycle gives for
   * (seed, epoch), D's noise on the stream K+1 training uses for that step. Stops early (returning
   * the steps done) when shouldStop() says so between steps.
   */
  async trainEpoch(epoch: number, onStep?: (p: SupervisedStepProgress) => void, shouldStop?: () => boolean): Promise<SupervisedEpochStats> {
    const cycle = new LabelledCycle(this.labelled, this.shape, this.options.seed, epoch);
    const steps = this.stepsPerEpoch();
    let total = 0;
    let done = 0;
    for (let step = 0; step < steps && !(shouldStop?.() ?? false); step++) {
      const started = performance.now();
      const batch = cycle.nextBatch(this.options.batchSize);
      let loss: number;
      try {
        loss = this.trainStep(batch, epoch * 100_000 + step);
      } finally {
        tf.dispose([batch.images, batch.labels]);
      }
      total += loss;
      done++;
      onStep?.({ epoch, step: step + 1, stepsPerEpoch: steps, loss, msPerStep: performance.now() - started });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { loss: done === 0 ? 0 : total / done, steps: done };
  }

  /** Runs fn (an evaluation) with D's parameters at their moving average when averaging is on. */
  withAveragedDiscriminator<T>(fn: () => T): T {
    return this.movingAverage === null ? fn() : this.movingAverage.withAverages(fn);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.movingAverage?.dispose();
  }
}
