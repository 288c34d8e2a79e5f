// Over 300 lines: the DCGAN step with each of Salimans et al.'s switches, its options checks and its
// epoch batching belong together (the K+1 and autoencoder trainers reuse its types and noise).
import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices, type Prng } from '../data/prng';
import { featureExtractor, featureMatchingLoss } from './techniques/feature-matching';
import { HistoricalAverage } from './techniques/historical-averaging';
import { checkRealTarget, discriminatorLoss } from './techniques/label-smoothing';
import { checkMinibatchDiscrimination, MinibatchDiscrimination } from '../models/layers/minibatch-discrimination';
import { VirtualBatchNormalization } from '../models/layers/virtual-batch-norm';
import { reseedNoise } from '../models/layers/seeded-random-layer';
import { FusedAdamOptimizer } from './optim/fused-adam';
import { variablesOf } from './trainable-variables';
import { generateImages, generatorPass } from './generator-pass';
import { GeneratorAverage } from './techniques/generator-average';

export interface DcganTrainerOptions {
  /** Images per batch; 64 as in the paper. */
  batchSize: number;
  /** Adam learning rate; 0.0002 as in the paper. */
  learningRate: number;
  /** Adam beta1; 0.5 as in the paper (0.9 made training oscillate there). */
  beta1: number;
  /** Discriminator updates per generator update; 1 as in the paper. */
  k: number;
  /** Seed of the shuffles and the noise; the weights have their own seed in DcganConfig. */
  seed: number;
  // Salimans et al. 2016's techniques: each off when absent (the plain DCGAN step).
  /** One-sided label smoothing: D's target for real images, in (0, 1] (0.9 in the paper); fake targets stay 0. Off: 1. */
  labelSmoothing?: number;
  /** Feature matching: G minimises ||mean f(real) - mean f(G(z))||^2 on this D layer instead of the non-saturating loss. */
  featureMatching?: { layer: string };
  /** Historical averaging: adds weight * ||theta - running mean of theta||^2 to both players' losses. */
  historicalAveraging?: { weight: number };
  /**
   * Minibatch discrimination: D must carry the layer (buildDiscriminator(config, { minibatchDiscrimination }));
   * the trainer checks it does, so the recorded switch matches the model.
   */
  minibatchDiscrimination?: { kernels: number; kernelDim: number };
  /**
   * Virtual batch normalization: G must use VBN layers of this referenceSize (buildGenerator(config,
   * { virtualBatchNorm })); the reference batch is seeded noise fixed at the start, prepended to every G pass.
   */
  virtualBatchNorm?: { referenceSize: number };
  /**
   * G's loss without feature matching: 'non-saturating' (default) maximises log D(G(z)); 'minimax'
   * minimises log(1 - D(G(z))) = -softplus(logit), Goodfellow et al.'s original objective (it saturates early).
   */
  generatorLoss?: 'non-saturating' | 'minimax';
  /**
   * Rate of an exponential moving average of G's trainable parameters, updated after every G step
   * (techniques/generator-average.ts), in (0, 1]; off when absent. The trainer keeps it; its users
   * (the session's grids, evaluation and saved G) read G through gMovingAverage.use.
   */
  generatorAverage?: number;
}

/** The reference noise of virtual batch normalization is seeded apart from the training noise. */
const VBN_REFERENCE_SALT = 2_000_003;

export const defaultTrainerOptions: Readonly<DcganTrainerOptions> = Object.freeze({
  batchSize: 64,
  learningRate: 0.0002,
  beta1: 0.5,
  k: 1,
  seed: 42,
});

export interface Losses {
  generator: number;
  discriminator: number;
}

/** Mean losses and D accuracies over the steps of an epoch (or of one step). */
export interface EpochStats extends Losses {
  /** Fraction of real images with D(x) > 0.5. */
  dAccuracyReal: number;
  /** Fraction of generated images with D(G(z)) < 0.5. */
  dAccuracyFake: number;
  /** Generator steps done (fewer than stepsPerEpoch when stopped early). */
  steps: number;
}

export interface StepProgress {
  epoch: number;
  /** 1-based generator step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  losses: Losses;
  msPerStep: number;
}

/** The training images: count * height * width * channels values, in the generator's output range. */
export interface TrainingImages {
  images: Float32Array;
  count: number;
  /** [height, width, channels] */
  shape: [number, number, number];
}

export function resolveTrainerOptions(partial: Partial<DcganTrainerOptions> = {}): DcganTrainerOptions {
  const o: DcganTrainerOptions = { ...defaultTrainerOptions, ...partial };
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${o.batchSize}`);
  if (!(o.learningRate > 0)) throw new Error(`learningRate: expected > 0, got ${o.learningRate}`);
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw new Error(`beta1: expected [0, 1), got ${o.beta1}`);
  if (!Number.isInteger(o.k) || o.k < 1) throw new Error(`k: expected a positive integer, got ${o.k}`);
  if (!Number.isInteger(o.seed)) throw new Error(`seed: expected an integer, got ${o.seed}`);
  if (o.labelSmoothing !== undefined) checkRealTarget(o.labelSmoothing);
  if (o.featureMatching !== undefined && (typeof o.featureMatching.layer !== 'string' || o.featureMatching.layer === '')) {
    throw new Error(`featureMatching.layer: expected a layer name, got ${JSON.stringify(o.featureMatching.layer)}`);
  }
  if (o.historicalAveraging !== undefined && !(o.historicalAveraging.weight > 0 && Number.isFinite(o.historicalAveraging.weight))) {
    throw new Error(`historicalAveraging.weight: expected a finite number > 0, got ${o.historicalAveraging.weight}`);
  }
  if (o.minibatchDiscrimination !== undefined) checkMinibatchDiscrimination(o.minibatchDiscrimination);
  if (o.virtualBatchNorm !== undefined && !(Number.isInteger(o.virtualBatchNorm.referenceSize) && o.virtualBatchNorm.referenceSize >= 1)) {
    throw new Error(`virtualBatchNorm.referenceSize: expected a positive integer, got ${o.virtualBatchNorm.referenceSize}`);
  }
  if (o.generatorLoss !== undefined && o.generatorLoss !== 'non-saturating' && o.generatorLoss !== 'minimax') {
    throw new Error(`generatorLoss: expected "non-saturating" or "minimax", got ${JSON.stringify(o.generatorLoss)}`);
  }
  if (o.generatorAverage !== undefined && !(o.generatorAverage > 0 && o.generatorAverage <= 1)) {
    throw new Error(`generatorAverage: expected a rate in (0, 1], got ${o.generatorAverage}`);
  }
  return o;
}

/** VBN's reference batch of noise [referenceSize, latentSize] for a run of this seed (the caller disposes it). */
export function vbnReferenceNoise(referenceSize: number, latentSize: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(seededNoise(referenceSize, latentSize, seed + VBN_REFERENCE_SALT), [referenceSize, latentSize]);
}

/** Standard normal noise from a seeded PRNG, so runs are reproducible on any backend. */
export function seededNoise(count: number, latentSize: number, seed: number): Float32Array {
  return fillNormal(new Float32Array(count * latentSize), createPrng(seed));
}

function fillNormal(out: Float32Array, prng: Prng): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = prng.nextNormal();
  return out;
}

/**
 * DCGAN training (Goodfellow et al. Algorithm 1 with the non-saturating generator loss):
 * per step, k discriminator updates on fresh real batches and fresh noise, then one
 * generator update. Both models stay owned by the caller; dispose() frees the optimizers.
 */
export class DcganTrainer {
  readonly options: DcganTrainerOptions;
  readonly gOptimizer: tf.AdamOptimizer;
  readonly dOptimizer: tf.AdamOptimizer;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  private readonly latentSize: number;
  private readonly imageSize: number;
  /** D up to the feature-matching layer (shares D's weights; owns no tensors). */
  private readonly features: tf.LayersModel | null = null;
  readonly gAverage: HistoricalAverage | null = null;
  readonly dAverage: HistoricalAverage | null = null;
  /** The moving average of G's parameters (options.generatorAverage), or null. */
  readonly gMovingAverage: GeneratorAverage | null = null;
  /** VBN's reference noise [R, latentSize], fixed for the trainer's life; disposed in dispose(). */
  private readonly referenceNoise: tf.Tensor2D | null = null;
  private stopRequested = false;

  constructor(
    readonly generator: tf.LayersModel,
    readonly discriminator: tf.LayersModel,
    readonly data: TrainingImages,
    options: Partial<DcganTrainerOptions> = {},
  ) {
    this.options = resolveTrainerOptions(options);
    const [h, w, c] = data.shape;
    this.imageSize = h * w * c;
    if (data.images.length !== data.count * this.imageSize) {
      throw new Error(`TrainingImages: expected ${data.count}*${this.imageSize} values, got ${data.images.length}`);
    }
    const zShape = generator.inputs[0].shape;
    this.latentSize = zShape[1] ?? NaN;
    if (!Number.isInteger(this.latentSize)) throw new Error(`generator: expected input [null, latentSize], got [${zShape}]`);
    const gOut = generator.outputs[0].shape.slice(1).join();
    if (gOut !== data.shape.join()) throw new Error(`generator output: expected [${data.shape}], got [${gOut}]`);
    if (this.stepsPerEpoch() < 1) {
      throw new Error(`Expected at least batchSize*k = ${this.options.batchSize * this.options.k} images, got ${data.count}`);
    }
    const { learningRate, beta1 } = this.options;
    this.gOptimizer = new FusedAdamOptimizer(learningRate, beta1, 0.999, 1e-8);
    this.dOptimizer = new FusedAdamOptimizer(learningRate, beta1, 0.999, 1e-8);
    this.gVars = variablesOf(generator);
    this.dVars = variablesOf(discriminator);
    const { featureMatching, historicalAveraging, minibatchDiscrimination } = this.options;
    if (minibatchDiscrimination !== undefined) checkHasMinibatchLayer(discriminator, minibatchDiscrimination);
    if (featureMatching !== undefined) this.features = featureExtractor(discriminator, featureMatching.layer);
    if (historicalAveraging !== undefined) {
      this.gAverage = new HistoricalAverage(this.gVars);
      this.dAverage = new HistoricalAverage(this.dVars);
    }
    const vbn = this.options.virtualBatchNorm;
    if (vbn !== undefined) {
      checkHasVbnLayers(generator, vbn.referenceSize);
      this.referenceNoise = vbnReferenceNoise(vbn.referenceSize, this.latentSize, this.options.seed);
    }
    const rate = this.options.generatorAverage;
    if (rate !== undefined) {
      this.gMovingAverage = new GeneratorAverage(generator, this.gVars, rate, {
        batchSize: this.options.batchSize,
        latentSize: this.latentSize,
        seed: this.options.seed,
      });
    }
  }

  /** G(z), with VBN's reference rows prepended and dropped again when G uses VBN. */
  private runGenerator(z: tf.Tensor2D, training: boolean): tf.Tensor4D {
    return generatorPass(this.generator, this.referenceNoise, z, training);
  }

  /** Generator steps per epoch; each consumes k real batches (a partial last batch is dropped). */
  stepsPerEpoch(): number {
    return Math.floor(this.data.count / (this.options.batchSize * this.options.k));
  }

  /** Asks a running trainEpoch to return after the current step. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * One generator step (with its k discriminator steps); batch order and noise come from the
   * arguments, D's dropout and noise layers draw from `noiseStream` (one per step, see reseedNoise).
   */
  trainStep(realBatches: tf.Tensor4D[], noise: Float32Array[], noiseStream = 0): EpochStats {
    const { k, batchSize } = this.options;
    if (realBatches.length !== k || noise.length !== k + 1) {
      throw new Error(`trainStep: expected ${k} real batches and ${k + 1} noise arrays, got ${realBatches.length} and ${noise.length}`);
    }
    reseedNoise(this.discriminator, noiseStream);
    const realTarget = this.options.labelSmoothing ?? 1;
    const haWeight = this.options.historicalAveraging?.weight ?? 0;
    let dLossSum = 0;
    let realRight = 0;
    let fakeRight = 0;
    for (let i = 0; i < k; i++) {
      // The running mean takes in the parameters this loss sees, so the penalty is 0 at step 1.
      this.dAverage?.update();
      let accuracy: tf.Tensor | null = null;
      const dCost = tf.tidy(() => {
        const z = tf.tensor2d(noise[i], [batchSize, this.latentSize]);
        const fake = this.runGenerator(z, true);
        return this.dOptimizer.minimize(
          () => {
            const realLogits = this.discriminator.apply(realBatches[i], { training: true }) as tf.Tensor;
            const fakeLogits = this.discriminator.apply(fake, { training: true }) as tf.Tensor;
            // D(x) = sigmoid(logit) > 0.5 exactly when logit > 0; kept past the tape's tidy, read below.
            accuracy = tf.keep(tf.stack([dAccuracy(realLogits, true), dAccuracy(fakeLogits, false)]));
            const loss = discriminatorLoss(realLogits, fakeLogits, realTarget);
            return this.dAverage === null ? loss : tf.add<tf.Scalar>(loss, tf.mul(this.dAverage.penalty(), haWeight));
          },
          true,
          this.dVars,
        ) as tf.Scalar;
      });
      dLossSum += readScalar(dCost);
      // Assigned inside the minimize callback, which TypeScript cannot see.
      const acc = accuracy as unknown as tf.Tensor;
      const [real, fakeAcc] = acc.dataSync();
      acc.dispose();
      realRight += real;
      fakeRight += fakeAcc;
    }
    this.gAverage?.update();
    const gCost = tf.tidy(() => {
      const z = tf.tensor2d(noise[k], [batchSize, this.latentSize]);
      return this.gOptimizer.minimize(
        () => {
          const fake = this.runGenerator(z, true);
          let loss: tf.Scalar;
          if (this.features !== null) {
            // Feature matching against the last real batch of this step (a minibatch estimate of E f(x)).
            const realFeatures = this.features.apply(realBatches[k - 1], { training: true }) as tf.Tensor;
            const fakeFeatures = this.features.apply(fake, { training: true }) as tf.Tensor;
            loss = featureMatchingLoss(realFeatures, fakeFeatures);
          } else {
            const logits = this.discriminator.apply(fake, { training: true }) as tf.Tensor;
            loss = generatorAdversarialLoss(logits, this.options.generatorLoss ?? 'non-saturating');
          }
          return this.gAverage === null ? loss : tf.add<tf.Scalar>(loss, tf.mul(this.gAverage.penalty(), haWeight));
        },
        true,
        this.gVars,
      ) as tf.Scalar;
    });
    // The average takes in the parameters this step made.
    this.gMovingAverage?.update();
    return { discriminator: dLossSum / k, generator: readScalar(gCost), dAccuracyReal: realRight / k, dAccuracyFake: fakeRight / k, steps: 1 };
  }

  /**
   * One pass over the data in an order fixed by (seed, epoch), so epoch e of two runs with the
   * same seed sees the same batches and noise. Returns the epoch's mean losses.
   */
  async trainEpoch(epoch: number, onStep?: (p: StepProgress) => void, maxSteps?: number, shouldStop?: () => boolean): Promise<EpochStats> {
    this.stopRequested = false;
    const { batchSize, k, seed } = this.options;
    const order = shuffledIndices(this.data.count, createPrng(seed * 7919 + epoch * 2 + 1));
    const noisePrng = createPrng(seed * 7919 + epoch * 2 + 2);
    const steps = Math.min(this.stepsPerEpoch(), maxSteps ?? Infinity);
    const [h, w, c] = this.data.shape;
    const totals: EpochStats = { generator: 0, discriminator: 0, dAccuracyReal: 0, dAccuracyFake: 0, steps: 0 };
    for (let step = 0; step < steps && !this.stopRequested && !(shouldStop?.() ?? false); step++) {
      const started = performance.now();
      const batches: tf.Tensor4D[] = [];
      for (let i = 0; i < k; i++) {
        const buf = new Float32Array(batchSize * this.imageSize);
        const first = (step * k + i) * batchSize;
        for (let b = 0; b < batchSize; b++) {
          const src = order[first + b] * this.imageSize;
          buf.set(this.data.images.subarray(src, src + this.imageSize), b * this.imageSize);
        }
        batches.push(tf.tensor4d(buf, [batchSize, h, w, c]));
      }
      const noise = Array.from({ length: k + 1 }, () => fillNormal(new Float32Array(batchSize * this.latentSize), noisePrng));
      let stats: EpochStats;
      try {
        stats = this.trainStep(batches, noise, epoch * this.stepsPerEpoch() + step);
      } finally {
        tf.dispose(batches);
      }
      totals.generator += stats.generator;
      totals.discriminator += stats.discriminator;
      totals.dAccuracyReal += stats.dAccuracyReal;
      totals.dAccuracyFake += stats.dAccuracyFake;
      totals.steps++;
      const losses: Losses = { generator: stats.generator, discriminator: stats.discriminator };
      onStep?.({ epoch, step: step + 1, stepsPerEpoch: steps, losses, msPerStep: performance.now() - started });
      // Yield so signals and timers (progress, stop requests) get a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const n = Math.max(totals.steps, 1);
    return {
      generator: totals.generator / n,
      discriminator: totals.discriminator / n,
      dAccuracyReal: totals.dAccuracyReal / n,
      dAccuracyFake: totals.dAccuracyFake / n,
      steps: totals.steps,
    };
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
    this.gMovingAverage?.dispose();
    this.referenceNoise?.dispose();
  }
}

/**
 * G's adversarial loss from D's logits on G(z): 'non-saturating' = mean -log sigmoid(l) (maximise log D(G(z)));
 * 'minimax' = mean log(1 - sigmoid(l)) = mean -softplus(l) (minimise log(1 - D(G(z)))).
 */
export function generatorAdversarialLoss(logits: tf.Tensor, kind: 'non-saturating' | 'minimax'): tf.Scalar {
  return tf.tidy(() =>
    kind === 'minimax' ? tf.mean<tf.Scalar>(tf.neg(tf.softplus(logits))) : tf.losses.sigmoidCrossEntropy<tf.Tensor, tf.Scalar>(tf.onesLike(logits), logits),
  );
}

/** Fraction of logits on D's right side: > 0 (D > 0.5) for real, < 0 for fake. */
export function dAccuracy(logits: tf.Tensor, real: boolean): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.cast(real ? tf.greater(logits, 0) : tf.less(logits, 0), 'float32')));
}

function checkHasVbnLayers(generator: tf.LayersModel, referenceSize: number): void {
  const found = generator.layers.filter((l): l is VirtualBatchNormalization => l instanceof VirtualBatchNormalization);
  const sizes = found.map((l) => l.referenceSize);
  if (found.length === 0 || sizes.some((r) => r !== referenceSize)) {
    throw new Error(
      `virtualBatchNorm: expected the generator's VirtualBatchNormalization layers to have referenceSize=${referenceSize} ` +
        `(buildGenerator(config, { virtualBatchNorm })), got ${found.length === 0 ? 'none' : `referenceSize ${sizes.join(', ')}`}`,
    );
  }
}

function checkHasMinibatchLayer(discriminator: tf.LayersModel, want: { kernels: number; kernelDim: number }): void {
  const found = discriminator.layers.filter((l): l is MinibatchDiscrimination => l instanceof MinibatchDiscrimination);
  const got = found.map((l) => `kernels=${l.kernels}, kernelDim=${l.kernelDim}`);
  if (found.length !== 1 || found[0].kernels !== want.kernels || found[0].kernelDim !== want.kernelDim) {
    throw new Error(
      `minibatchDiscrimination: expected the discriminator to hold one MinibatchDiscrimination layer with kernels=${want.kernels}, ` +
        `kernelDim=${want.kernelDim} (buildDiscriminator(config, { minibatchDiscrimination })), got ${found.length === 0 ? 'none' : got.join('; ')}`,
    );
  }
}

/** Reads and frees a scalar outside any tidy (reading inside one is slow, see TFJS-NOTES). */
function readScalar(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}
