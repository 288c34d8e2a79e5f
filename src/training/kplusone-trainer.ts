// Over 300 lines: the K+1 step, its epoch batching (labelled batches cycled beside the unlabelled
// ones) and the classifier's evaluation helper (test error) belong together.
import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices } from '../data/prng';
import { reseedNoise } from '../models/layers/seeded-random-layer';
import { FusedAdamOptimizer } from './optim/fused-adam';
import { variablesOf } from './trainable-variables';
import { generateImages, generatorPass } from './generator-pass';
import { vbnReferenceNoise, type EpochStats, type StepProgress, type TrainingImages } from './dcgan-trainer';
import { kPlusOneDiscriminatorLoss } from './k-plus-one';
import { LabelledCycle, type LabelledBatch, type LabelledImages } from './labelled-examples';
import { featureExtractor, featureMatchingLoss } from './techniques/feature-matching';
import { HistoricalAverage } from './techniques/historical-averaging';
import { ParameterAverage } from './techniques/parameter-average';
import type { FeatureMatchingBatch } from './training-spec';

export interface KPlusOneTrainerOptions {
  /** Images per batch of each kind (labelled, unlabelled, generated); 100 as in the paper's code. */
  batchSize: number;
  /** Adam learning rate; 0.003 in the paper's MNIST code. */
  learningRate: number;
  /** Adam beta1; 0.5 as in the paper's code. */
  beta1: number;
  /** Discriminator updates per generator update; 1 in the paper. */
  k: number;
  /** Seed of the batch order, the labelled cycling, the noise and D's noise layers. */
  seed: number;
  /** D layer whose mean activations G matches (feature matching, always on in K+1 training). */
  featureLayer: string;
  /** The real batch G's features are matched against (FeatureMatchingBatch). @default 'step' */
  featureBatch?: FeatureMatchingBatch;
  /**
   * Weight of the unsupervised loss: 0.5 in the paper's code (its loss_unl carries 0.5 on both terms),
   * so L = L_supervised + 0.5 * (L_unlabelled + L_generated).
   */
  unsupervisedWeight: number;
  /** Historical averaging on both players (sec 3.3); off when absent. */
  historicalAveraging?: { weight: number };
  /** VBN in G: the reference noise prepended to every G pass (as in DcganTrainer). */
  virtualBatchNorm?: { referenceSize: number };
  /**
   * Rate of the moving average of D's parameters that the classifier is evaluated and served with
   * (the paper's code averages at 0.0001 over 180,000 steps); off when absent.
   */
  averageRate?: number;
}

/**
 * Semi-supervised GAN training with a K+1 discriminator (Salimans et al. 2016 sec 5). Per generator
 * step, k discriminator steps each minimise L_supervised on a labelled batch + w * (L_unlabelled on an
 * unlabelled real batch + L_generated on a generated batch) (k-plus-one.ts); then G minimises feature
 * matching between a real batch (the step's unlabelled one, or one of its own: `featureBatch`) and a
 * fresh generated batch on `featureLayer`.
 * Only `labelled` feeds the supervised loss: the unlabelled images come without labels.
 * The models stay owned by the caller; dispose() frees the optimizers and running means.
 */
export class KPlusOneTrainer {
  readonly options: KPlusOneTrainerOptions;
  readonly gOptimizer: tf.AdamOptimizer;
  readonly dOptimizer: tf.AdamOptimizer;
  readonly gAverage: HistoricalAverage | null = null;
  readonly dAverage: HistoricalAverage | null = null;
  /** The moving average of D's parameters (averageRate), or null. */
  readonly dMovingAverage: ParameterAverage | null = null;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  private readonly features: tf.LayersModel;
  private readonly latentSize: number;
  private readonly imageSize: number;
  private readonly classes: number;
  private readonly referenceNoise: tf.Tensor2D | null = null;
  /** D holds no batchnorm: its batches may share one pass (see applyJointly). */
  private readonly jointPass: boolean;

  constructor(
    readonly generator: tf.LayersModel,
    readonly discriminator: tf.LayersModel,
    readonly unlabelled: TrainingImages,
    readonly labelled: LabelledImages,
    options: KPlusOneTrainerOptions,
  ) {
    this.options = options;
    const { batchSize, k, learningRate, beta1, unsupervisedWeight } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${batchSize}`);
    if (!Number.isInteger(k) || k < 1) throw new Error(`k: expected a positive integer, got ${k}`);
    if (!(unsupervisedWeight >= 0)) throw new Error(`unsupervisedWeight: expected >= 0, got ${unsupervisedWeight}`);
    const [h, w, c] = unlabelled.shape;
    this.imageSize = h * w * c;
    if (unlabelled.images.length !== unlabelled.count * this.imageSize) {
      throw new Error(`unlabelled images: expected ${unlabelled.count}*${this.imageSize} values, got ${unlabelled.images.length}`);
    }
    if (labelled.count < 1 || labelled.images.length !== labelled.count * this.imageSize || labelled.labels.length !== labelled.count) {
      throw new Error(
        `labelled images: expected count >= 1 with count*${this.imageSize} values and count labels, got count ${labelled.count}, ${labelled.images.length} values, ${labelled.labels.length} labels`,
      );
    }
    this.latentSize = generator.inputs[0].shape[1] ?? NaN;
    if (!Number.isInteger(this.latentSize)) throw new Error(`generator: expected input [null, latentSize], got [${generator.inputs[0].shape}]`);
    const gOut = generator.outputs[0].shape.slice(1).join();
    if (gOut !== unlabelled.shape.join()) throw new Error(`generator output: expected [${unlabelled.shape}], got [${gOut}]`);
    this.classes = discriminator.outputs[0].shape[1] ?? NaN;
    if (!(this.classes >= 2)) throw new Error(`discriminator: expected K >= 2 class logits, got output [${discriminator.outputs[0].shape}]`);
    const maxLabel = labelled.labels.reduce((m, l) => Math.max(m, l), 0);
    if (maxLabel >= this.classes) throw new Error(`labelled images: expected labels in 0..${this.classes - 1}, got ${maxLabel}`);
    if (this.stepsPerEpoch() < 1) throw new Error(`Expected at least batchSize*k = ${batchSize * k} unlabelled images, got ${unlabelled.count}`);
    // Adam as the paper's code (nn.adam_updates): epsilon inside the root, so 1e-8 acts as 1e-4 and damps
    // steps where gradients are small; with tfjs's epsilon, G collapsed after ~75 epochs at lr 0.003.
    this.gOptimizer = new FusedAdamOptimizer(learningRate, beta1, 0.999, 1e-8, { epsilonInside: true });
    this.dOptimizer = new FusedAdamOptimizer(learningRate, beta1, 0.999, 1e-8, { epsilonInside: true });
    this.gVars = variablesOf(generator);
    this.dVars = variablesOf(discriminator);
    this.features = featureExtractor(discriminator, options.featureLayer);
    this.jointPass = !discriminator.layers.some((l) => l.getClassName() === 'BatchNormalization');
    if (options.historicalAveraging !== undefined) {
      this.gAverage = new HistoricalAverage(this.gVars);
      this.dAverage = new HistoricalAverage(this.dVars);
    }
    if (options.averageRate !== undefined) this.dMovingAverage = new ParameterAverage(this.dVars, options.averageRate);
    const vbn = options.virtualBatchNorm;
    if (vbn !== undefined) {
      this.referenceNoise = vbnReferenceNoise(vbn.referenceSize, this.latentSize, options.seed);
    }
  }

  /**
   * `model` (training mode) on each batch. Without batchnorm in D one pass over the concatenated
   * batches equals one pass per batch, and is faster; with it, batch statistics stay per batch.
   */
  private applyJointly(model: tf.LayersModel, batches: tf.Tensor4D[]): tf.Tensor[] {
    if (!this.jointPass) return batches.map((b) => model.apply(b, { training: true }) as tf.Tensor);
    const out = model.apply(tf.concat(batches, 0), { training: true }) as tf.Tensor;
    return tf.split(
      out,
      batches.map((b) => b.shape[0]),
      0,
    );
  }

  /** Generator steps per epoch: one pass over the unlabelled images, k batches per step. */
  stepsPerEpoch(): number {
    return Math.floor(this.unlabelled.count / (this.options.batchSize * this.options.k));
  }

  private runGenerator(z: tf.Tensor2D, training: boolean): tf.Tensor4D {
    return generatorPass(this.generator, this.referenceNoise, z, training);
  }

  /**
   * One generator step with its k discriminator steps. labelled/unlabelled: k batches each;
   * noise: k + 1 arrays of batchSize * latentSize. D's noise layers draw from stream `noiseStream`.
   * G matches its features against `matchBatch`, or without one the last unlabelled batch.
   */
  trainStep(labelledBatches: LabelledBatch[], unlabelledBatches: tf.Tensor4D[], noise: Float32Array[], noiseStream = 0, matchBatch?: tf.Tensor4D): EpochStats {
    const { k, batchSize, unsupervisedWeight } = this.options;
    if (labelledBatches.length !== k || unlabelledBatches.length !== k || noise.length !== k + 1) {
      throw new Error(
        `trainStep: expected ${k} labelled and unlabelled batches and ${k + 1} noise arrays, got ${labelledBatches.length}, ${unlabelledBatches.length} and ${noise.length}`,
      );
    }
    reseedNoise(this.discriminator, noiseStream);
    const haWeight = this.options.historicalAveraging?.weight ?? 0;
    let dLoss = 0;
    let realRight = 0;
    let fakeRight = 0;
    for (let i = 0; i < k; i++) {
      this.dAverage?.update();
      let accuracy: tf.Tensor1D | null = null;
      const cost = tf.tidy(() => {
        const fake = this.runGenerator(tf.tensor2d(noise[i], [batchSize, this.latentSize]), true);
        return this.dOptimizer.minimize(
          () => {
            const [labelledLogits, unlabelledLogits, generatedLogits] = this.applyJointly(this.discriminator, [
              labelledBatches[i].images,
              unlabelledBatches[i],
              fake,
            ]) as tf.Tensor2D[];
            // D(x) = sigmoid(logsumexp(l)) > 0.5 exactly when logsumexp(l) > 0.
            accuracy = tf.keep(
              tf.stack([
                tf.mean(tf.cast(tf.greater(tf.logSumExp(unlabelledLogits, 1), 0), 'float32')),
                tf.mean(tf.cast(tf.less(tf.logSumExp(generatedLogits, 1), 0), 'float32')),
              ]) as tf.Tensor1D,
            );
            const { total } = kPlusOneDiscriminatorLoss(
              { logits: labelledLogits, labels: labelledBatches[i].labels },
              unlabelledLogits,
              generatedLogits,
              unsupervisedWeight,
            );
            return this.dAverage === null ? total : tf.add<tf.Scalar>(total, tf.mul(this.dAverage.penalty(), haWeight));
          },
          true,
          this.dVars,
        ) as tf.Scalar;
      });
      dLoss += readAndDispose(cost)[0];
      this.dMovingAverage?.update();
      const [real, fake] = readAndDispose(accuracy as unknown as tf.Tensor1D);
      realRight += real;
      fakeRight += fake;
    }
    this.gAverage?.update();
    const gCost = tf.tidy(() => {
      const z = tf.tensor2d(noise[k], [batchSize, this.latentSize]);
      return this.gOptimizer.minimize(
        () => {
          const fake = this.runGenerator(z, true);
          // E f(x) on the unlabelled batch of the step, or on a batch of its own (featureBatch 'separate').
          const [realFeatures, fakeFeatures] = this.applyJointly(this.features, [matchBatch ?? unlabelledBatches[k - 1], fake]);
          // The mean over features, as the paper's code: with epsilon inside Adam's root the gradient's scale counts.
          const loss = featureMatchingLoss(realFeatures, fakeFeatures, 'mean');
          return this.gAverage === null ? loss : tf.add<tf.Scalar>(loss, tf.mul(this.gAverage.penalty(), haWeight));
        },
        true,
        this.gVars,
      ) as tf.Scalar;
    });
    return { discriminator: dLoss / k, generator: readAndDispose(gCost)[0], dAccuracyReal: realRight / k, dAccuracyFake: fakeRight / k, steps: 1 };
  }

  /**
   * One pass over the unlabelled images in an order fixed by (seed, epoch); the labelled images are
   * cycled in reshuffled passes (LabelledCycle), so each step sees batchSize labelled examples (the paper's code does the same).
   * Stops early (returning the steps done) when shouldStop() says so between steps.
   */
  async trainEpoch(epoch: number, onStep?: (p: StepProgress) => void, maxSteps?: number, shouldStop?: () => boolean): Promise<EpochStats> {
    const { batchSize, k, seed } = this.options;
    const order = shuffledIndices(this.unlabelled.count, createPrng(seed * 7919 + epoch * 4 + 1));
    // 'separate': G's real batches come from a second shuffle of the unlabelled images (the released code's trainx_unl2).
    const matchOrder = this.options.featureBatch === 'separate' ? shuffledIndices(this.unlabelled.count, createPrng(seed * 7919 + epoch * 4 + 3)) : undefined;
    const noisePrng = createPrng(seed * 7919 + epoch * 4 + 2);
    const cycle = new LabelledCycle(this.labelled, this.unlabelled.shape, seed, epoch);
    const steps = Math.min(this.stepsPerEpoch(), maxSteps ?? Infinity);
    const totals: EpochStats = { generator: 0, discriminator: 0, dAccuracyReal: 0, dAccuracyFake: 0, steps: 0 };
    for (let step = 0; step < steps && !(shouldStop?.() ?? false); step++) {
      const started = performance.now();
      const labelled: LabelledBatch[] = [];
      const unlabelled: tf.Tensor4D[] = [];
      for (let i = 0; i < k; i++) {
        unlabelled.push(this.unlabelledBatch(order, (step * k + i) * batchSize));
        labelled.push(cycle.nextBatch(batchSize));
      }
      const noise = Array.from({ length: k + 1 }, () => {
        const out = new Float32Array(batchSize * this.latentSize);
        for (let j = 0; j < out.length; j++) out[j] = noisePrng.nextNormal();
        return out;
      });
      const match = matchOrder === undefined ? undefined : this.unlabelledBatch(matchOrder, step * batchSize);
      let stats: EpochStats;
      try {
        stats = this.trainStep(labelled, unlabelled, noise, epoch * 100_000 + step, match);
      } finally {
        match?.dispose();
        tf.dispose(unlabelled);
        tf.dispose(labelled.flatMap((b) => [b.images, b.labels]));
      }
      addStats(totals, stats);
      onStep?.({
        epoch,
        step: step + 1,
        stepsPerEpoch: steps,
        losses: { generator: stats.generator, discriminator: stats.discriminator },
        msPerStep: performance.now() - started,
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return meanStats(totals);
  }

  /** The batchSize unlabelled images at order[first], order[first + 1], ... as one tensor. */
  private unlabelledBatch(order: ArrayLike<number>, first: number): tf.Tensor4D {
    const { batchSize } = this.options;
    const real = new Float32Array(batchSize * this.imageSize);
    for (let b = 0; b < batchSize; b++) {
      const src = order[first + b] * this.imageSize;
      real.set(this.unlabelled.images.subarray(src, src + this.imageSize), b * this.imageSize);
    }
    return tf.tensor4d(real, [batchSize, ...this.unlabelled.shape]);
  }

  /** Runs fn (e.g. an evaluation) with D's parameters set to their moving average when averaging is on. */
  withAveragedDiscriminator<T>(fn: () => T): T {
    return this.dMovingAverage === null ? fn() : this.dMovingAverage.withAverages(fn);
  }

  /** Generator output (inference mode) for the given noise, one Float32Array per image. */
  generate(noise: Float32Array, count: number): Float32Array[] {
    return generateImages(this.generator, this.referenceNoise, noise, count);
  }

  dispose(): void {
    this.gOptimizer.dispose();
    this.dOptimizer.dispose();
    this.gAverage?.dispose();
    this.dAverage?.dispose();
    this.dMovingAverage?.dispose();
    this.referenceNoise?.dispose();
  }
}

/** Sums a step's stats into an epoch's running totals. */
export function addStats(totals: EpochStats, s: EpochStats): void {
  totals.generator += s.generator;
  totals.discriminator += s.discriminator;
  totals.dAccuracyReal += s.dAccuracyReal;
  totals.dAccuracyFake += s.dAccuracyFake;
  totals.steps += s.steps;
}

/** Totals -> means per step (steps stays the count). */
export function meanStats(t: EpochStats): EpochStats {
  const n = Math.max(t.steps, 1);
  return {
    generator: t.generator / n,
    discriminator: t.discriminator / n,
    dAccuracyReal: t.dAccuracyReal / n,
    dAccuracyFake: t.dAccuracyFake / n,
    steps: t.steps,
  };
}

/**
 * Fraction of `images` whose argmax logit differs from its label, with `classifier` in inference
 * mode (noise layers off), in batches of `batchSize`.
 */
export function classificationError(classifier: tf.LayersModel, data: LabelledImages, shape: [number, number, number], batchSize = 500): number {
  const size = shape[0] * shape[1] * shape[2];
  let wrong = 0;
  for (let first = 0; first < data.count; first += batchSize) {
    const n = Math.min(batchSize, data.count - first);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(first * size, (first + n) * size), [n, ...shape]);
      return tf.argMax(classifier.predict(x) as tf.Tensor2D, 1);
    });
    const classes = predicted.dataSync();
    predicted.dispose();
    for (let i = 0; i < n; i++) if (classes[i] !== data.labels[first + i]) wrong++;
  }
  return data.count === 0 ? 0 : wrong / data.count;
}

/** Reads a tensor and frees it (outside any tidy: reading inside one is slow, see TFJS-NOTES). */
function readAndDispose(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
