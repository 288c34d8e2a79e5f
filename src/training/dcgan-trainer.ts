import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices, type Prng } from '../data/prng';

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
}

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
  return o;
}

/** Standard normal noise from a seeded PRNG, so runs are reproducible on any backend. */
export function seededNoise(count: number, latentSize: number, seed: number): Float32Array {
  return fillNormal(new Float32Array(count * latentSize), createPrng(seed));
}

function fillNormal(out: Float32Array, prng: Prng): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = prng.nextNormal();
  return out;
}

/** LayerVariable.read() returns the backing tf.Variable (typed as Tensor); the optimizer wants Variables. */
function variablesOf(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * DCGAN training (Goodfellow et al. Algorithm 1 with the non-saturating generator loss):
 * per step, k discriminator updates on fresh real batches and fresh noise, then one
 * generator update. Both models stay owned by the caller; dispose() frees the optimizers.
 */
export class DcganTrainer {
  readonly options: DcganTrainerOptions;
  private readonly gOptimizer: tf.AdamOptimizer;
  private readonly dOptimizer: tf.AdamOptimizer;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  private readonly latentSize: number;
  private readonly imageSize: number;
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
    this.gOptimizer = tf.train.adam(learningRate, beta1, 0.999, 1e-8);
    this.dOptimizer = tf.train.adam(learningRate, beta1, 0.999, 1e-8);
    this.gVars = variablesOf(generator);
    this.dVars = variablesOf(discriminator);
  }

  /** Generator steps per epoch; each consumes k real batches (a partial last batch is dropped). */
  stepsPerEpoch(): number {
    return Math.floor(this.data.count / (this.options.batchSize * this.options.k));
  }

  /** Asks a running trainEpoch to return after the current step. */
  stop(): void {
    this.stopRequested = true;
  }

  /** One generator step (with its k discriminator steps); batch order and noise come from the arguments. */
  trainStep(realBatches: tf.Tensor4D[], noise: Float32Array[]): Losses {
    const { k, batchSize } = this.options;
    if (realBatches.length !== k || noise.length !== k + 1) {
      throw new Error(`trainStep: expected ${k} real batches and ${k + 1} noise arrays, got ${realBatches.length} and ${noise.length}`);
    }
    let dLossSum = 0;
    for (let i = 0; i < k; i++) {
      const dCost = tf.tidy(() => {
        const z = tf.tensor2d(noise[i], [batchSize, this.latentSize]);
        const fake = this.generator.apply(z, { training: true }) as tf.Tensor4D;
        return this.dOptimizer.minimize(() => {
          const realLogits = this.discriminator.apply(realBatches[i], { training: true }) as tf.Tensor;
          const fakeLogits = this.discriminator.apply(fake, { training: true }) as tf.Tensor;
          const realLoss = tf.losses.sigmoidCrossEntropy(tf.onesLike(realLogits), realLogits);
          const fakeLoss = tf.losses.sigmoidCrossEntropy(tf.zerosLike(fakeLogits), fakeLogits);
          return tf.add(realLoss, fakeLoss) as tf.Scalar;
        }, true, this.dVars) as tf.Scalar;
      });
      dLossSum += readScalar(dCost);
    }
    const gCost = tf.tidy(() => {
      const z = tf.tensor2d(noise[k], [batchSize, this.latentSize]);
      return this.gOptimizer.minimize(() => {
        const fake = this.generator.apply(z, { training: true }) as tf.Tensor4D;
        const logits = this.discriminator.apply(fake, { training: true }) as tf.Tensor;
        // Non-saturating loss: maximise log D(G(z)) rather than minimise log(1 - D(G(z))).
        return tf.losses.sigmoidCrossEntropy(tf.onesLike(logits), logits) as tf.Scalar;
      }, true, this.gVars) as tf.Scalar;
    });
    return { discriminator: dLossSum / k, generator: readScalar(gCost) };
  }

  /**
   * One pass over the data in an order fixed by (seed, epoch), so epoch e of two runs with the
   * same seed sees the same batches and noise. Returns the epoch's mean losses.
   */
  async trainEpoch(epoch: number, onStep?: (p: StepProgress) => void, maxSteps?: number): Promise<Losses> {
    this.stopRequested = false;
    const { batchSize, k, seed } = this.options;
    const order = shuffledIndices(this.data.count, createPrng(seed * 7919 + epoch * 2 + 1));
    const noisePrng = createPrng(seed * 7919 + epoch * 2 + 2);
    const steps = Math.min(this.stepsPerEpoch(), maxSteps ?? Infinity);
    const [h, w, c] = this.data.shape;
    const totals = { generator: 0, discriminator: 0 };
    let done = 0;
    for (let step = 0; step < steps && !this.stopRequested; step++) {
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
      let losses: Losses;
      try {
        losses = this.trainStep(batches, noise);
      } finally {
        tf.dispose(batches);
      }
      totals.generator += losses.generator;
      totals.discriminator += losses.discriminator;
      done++;
      onStep?.({ epoch, step: step + 1, stepsPerEpoch: steps, losses, msPerStep: performance.now() - started });
      // Yield so signals and timers (progress, stop requests) get a turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { generator: totals.generator / Math.max(done, 1), discriminator: totals.discriminator / Math.max(done, 1) };
  }

  /** Generator output (inference mode) for the given noise, one Float32Array per image. */
  generate(noise: Float32Array, count: number): Float32Array[] {
    const flat = tf.tidy(() => this.generator.predict(tf.tensor2d(noise, [count, this.latentSize])) as tf.Tensor);
    const data = flat.dataSync() as Float32Array;
    flat.dispose();
    return Array.from({ length: count }, (_, i) => data.slice(i * this.imageSize, (i + 1) * this.imageSize));
  }

  dispose(): void {
    this.gOptimizer.dispose();
    this.dOptimizer.dispose();
  }
}

/** Reads and frees a scalar outside any tidy (reading inside one is slow, see TFJS-NOTES). */
function readScalar(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}
