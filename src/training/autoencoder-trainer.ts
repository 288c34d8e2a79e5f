import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices } from '../data/prng';
import { reseedNoise } from '../models/layers/seeded-random-layer';
import type { TrainingImages } from './dcgan-trainer';
import { denseAutoencoderChain, denseAutoencoderStep, RHO_HAT_EPSILON, type DenseAutoencoderChain } from './dense-autoencoder-gradients';
import { FusedAdamOptimizer } from './optim/fused-adam';
import { variablesOf } from './trainable-variables';

export interface AutoencoderTrainerOptions {
  /** Images per batch. */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** Adam beta1. */
  beta1: number;
  /** Seed of the batch order and of the encoder's noise layer. */
  seed: number;
  /** Encoder layers (sigmoid outputs in (0, 1)) whose units' mean activations carry the sparsity penalty. */
  sparseLayers: string[];
  /** rho: the mean activation each sparse unit is pushed towards (0.05 as in the UFLDL sparse autoencoder). */
  sparsityTarget: number;
  /** beta: weight of the mean KL sparsity penalty against the reconstruction MSE; 0 turns it off. */
  sparsityWeight: number;
  /**
   * Compute the gradients with tfjs's tape even when the networks are a plain dense chain (the
   * explicit gradients' reference in tests). @default false
   */
  tapeGradients?: boolean;
}

/** How a trainer computes its gradients: by hand over a plain dense chain, or with tfjs's tape (and why). */
export type AutoencoderGradientPath = { kind: 'explicit' } | { kind: 'tape'; reason: string };

/** Mean losses over the steps of an epoch (or of one step). */
export interface AutoencoderEpochStats {
  /** Mean squared error of the reconstruction of the clean image, per pixel (pixels in [-1, 1]). */
  reconstruction: number;
  /** sparsityWeight * the mean KL sparsity penalty (what was added to the reconstruction loss). */
  sparsity: number;
  /** Steps done (fewer than stepsPerEpoch when stopped early). */
  steps: number;
}

export interface AutoencoderStepProgress {
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  reconstruction: number;
  sparsity: number;
  msPerStep: number;
}

/**
 * The KL sparsity penalty of the sparse autoencoder (Ng's UFLDL notes; Le et al. 2012 use the
 * same kind of penalty on pooled units): for each unit j of each [n, units] activation (in (0, 1)),
 * rho_hat_j = its mean over the batch and
 *   KL(rho || rho_hat_j) = rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)),
 * averaged over all units of all layers, so the weight does not depend on the layer widths.
 */
export function klSparsityPenalty(activations: tf.Tensor2D[], target: number): tf.Scalar {
  if (!(target > 0 && target < 1)) throw new Error(`klSparsityPenalty: expected a target in (0, 1), got ${target}`);
  if (activations.length === 0) throw new Error('klSparsityPenalty: expected at least one activation, got none');
  return tf.tidy(() => {
    const kl = activations.map((a) => {
      const rhoHat = tf.clipByValue(tf.mean(a, 0), RHO_HAT_EPSILON, 1 - RHO_HAT_EPSILON);
      const high = tf.mul(target, tf.log(tf.div(target, rhoHat)));
      const low = tf.mul(1 - target, tf.log(tf.div(1 - target, tf.sub(1, rhoHat))));
      return tf.add(high, low);
    });
    return tf.mean<tf.Scalar>(tf.concat(kl, 0));
  });
}

/** Mean squared difference per value: the reconstruction loss. */
export function reconstructionLoss(reconstruction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.squaredDifference(reconstruction, target)));
}

/**
 * Trains a sparse denoising autoencoder on unlabelled images: each step, the encoder (noise layer on,
 * so it sees a corrupted image) and the decoder minimise MSE(decoder(encoder(x~)), x) + beta * KL
 * sparsity of the encoder's sigmoid layers, with one Adam over both networks. Deterministic given
 * the seed. The models stay owned by the caller; dispose() frees the optimizer.
 * When encoder and decoder are a plain chain of dense layers (as buildEncoder and buildDecoder make
 * them), the step computes the gradients by hand (src/training/dense-autoencoder-gradients.ts: a
 * quarter of the kernel calls of tfjs's tape); any other networks train through layers' apply and
 * the tape, and gradientPath says which and why.
 */
export class AutoencoderTrainer {
  readonly options: AutoencoderTrainerOptions;
  readonly optimizer: tf.AdamOptimizer;
  private readonly vars: tf.Variable[];
  /** The encoder with the sparse layers' activations as outputs too (it shares the encoder's layers and weights). */
  private readonly probe: tf.LayersModel;
  /** Which of the probe's outputs is each sparse layer (the code may be one of them). */
  private readonly sparseOutputs: number[];
  private readonly imageSize: number;
  /** The dense chain of encoder and decoder when the explicit gradients apply (src/training/dense-autoencoder-gradients.ts). */
  private readonly chain: DenseAutoencoderChain | null;
  readonly gradientPath: AutoencoderGradientPath;

  constructor(
    readonly encoder: tf.LayersModel,
    readonly decoder: tf.LayersModel,
    readonly images: TrainingImages,
    options: AutoencoderTrainerOptions,
  ) {
    this.options = options;
    const { batchSize, learningRate, beta1, sparsityTarget, sparsityWeight, sparseLayers } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize: expected a positive integer, got ${batchSize}`);
    if (!(sparsityTarget > 0 && sparsityTarget < 1)) throw new Error(`sparsityTarget: expected a number in (0, 1), got ${sparsityTarget}`);
    if (!(sparsityWeight >= 0 && Number.isFinite(sparsityWeight))) throw new Error(`sparsityWeight: expected a finite number >= 0, got ${sparsityWeight}`);
    const [h, w, c] = images.shape;
    this.imageSize = h * w * c;
    if (images.images.length !== images.count * this.imageSize)
      throw new Error(`images: expected ${images.count}*${this.imageSize} values, got ${images.images.length}`);
    const inShape = encoder.inputs[0].shape.slice(1).join();
    if (inShape !== images.shape.join()) throw new Error(`encoder input: expected [${images.shape}], got [${inShape}]`);
    const code = encoder.outputs[0].shape.slice(1).join();
    const decoderIn = decoder.inputs[0].shape.slice(1).join();
    if (code !== decoderIn) throw new Error(`decoder input: expected the code shape [${code}], got [${decoderIn}]`);
    const outShape = decoder.outputs[0].shape.slice(1).join();
    if (outShape !== images.shape.join()) throw new Error(`decoder output: expected [${images.shape}], got [${outShape}]`);
    if (this.stepsPerEpoch() < 1) throw new Error(`images: expected at least batchSize = ${batchSize}, got ${images.count}`);
    const names = encoder.layers.map((l) => l.name);
    // tf.model refuses an output listed twice: the code layer is output 0 and may be sparse too.
    const outputs: tf.SymbolicTensor[] = [encoder.outputs[0]];
    this.sparseOutputs = sparseLayers.map((name) => {
      if (!names.includes(name)) throw new Error(`sparseLayers: expected encoder layers (${names.join(', ')}), got ${JSON.stringify(name)}`);
      const output = encoder.getLayer(name).output as tf.SymbolicTensor;
      if (!outputs.includes(output)) outputs.push(output);
      return outputs.indexOf(output);
    });
    this.probe = tf.model({ inputs: encoder.inputs, outputs });
    this.optimizer = new FusedAdamOptimizer(learningRate, beta1, 0.999, 1e-8);
    this.vars = [...variablesOf(encoder), ...variablesOf(decoder)];
    const chain = options.tapeGradients === true ? 'tapeGradients is set' : denseAutoencoderChain(encoder, decoder, sparseLayers);
    this.chain = typeof chain === 'string' ? null : chain;
    this.gradientPath = typeof chain === 'string' ? { kind: 'tape', reason: chain } : { kind: 'explicit' };
  }

  stepsPerEpoch(): number {
    return Math.floor(this.images.count / this.options.batchSize);
  }

  /** One step on `batch` [n, h, w, c]; the encoder's noise draws from stream `noiseStream`. */
  trainStep(batch: tf.Tensor4D, noiseStream = 0): AutoencoderEpochStats {
    reseedNoise(this.encoder, noiseStream);
    const parts = this.chain === null ? this.tapeStep(batch) : this.explicitStep(this.chain, batch);
    const [reconstruction, sparsity] = readAndDispose(parts);
    return { reconstruction, sparsity, steps: 1 };
  }

  /** The step with the hand-derived gradients; returns [mse, penalty]. */
  private explicitStep(chain: DenseAutoencoderChain, batch: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => {
      const { mse, penalty, gradients } = denseAutoencoderStep(chain, batch, this.options);
      // In this.vars' order, as minimize passes them: the optimizer keys its moments by position.
      const named = this.vars.flatMap((v) => {
        const tensor = gradients.get(v);
        return tensor === undefined ? [] : [{ name: v.name, tensor }];
      });
      this.optimizer.applyGradients(named);
      return tf.stack([mse, penalty]) as tf.Tensor1D;
    });
  }

  /** The step through layers' apply and tfjs's tape; returns [mse, penalty]. */
  private tapeStep(batch: tf.Tensor4D): tf.Tensor1D {
    const { sparsityTarget, sparsityWeight } = this.options;
    let parts: tf.Tensor1D | null = null;
    const cost = tf.tidy(
      () =>
        this.optimizer.minimize(
          () => {
            const out = this.probe.apply(batch, { training: true }) as tf.Tensor | tf.Tensor[];
            const all = Array.isArray(out) ? out : [out];
            const code = all[0];
            const sparse = this.sparseOutputs.map((i) => all[i] as tf.Tensor2D);
            const reconstruction = this.decoder.apply(code, { training: true }) as tf.Tensor;
            const mse = reconstructionLoss(reconstruction, batch);
            const penalty = sparsityWeight === 0 || sparse.length === 0 ? tf.scalar(0) : tf.mul(klSparsityPenalty(sparse, sparsityTarget), sparsityWeight);
            parts = tf.keep(tf.stack([mse, penalty]) as tf.Tensor1D);
            return tf.add<tf.Scalar>(mse, penalty);
          },
          true,
          this.vars,
        ) as tf.Scalar,
    );
    cost.dispose();
    return parts as unknown as tf.Tensor1D;
  }

  /**
   * One pass over the images in an order fixed by (seed, epoch). Stops early (returning the steps
   * done) when shouldStop() says so between steps.
   */
  async trainEpoch(
    epoch: number,
    onStep?: (p: AutoencoderStepProgress) => void,
    maxSteps?: number,
    shouldStop?: () => boolean,
  ): Promise<AutoencoderEpochStats> {
    const { batchSize, seed } = this.options;
    const order = shuffledIndices(this.images.count, createPrng(seed * 7919 + epoch * 4 + 1));
    const steps = Math.min(this.stepsPerEpoch(), maxSteps ?? Infinity);
    const totals: AutoencoderEpochStats = { reconstruction: 0, sparsity: 0, steps: 0 };
    for (let step = 0; step < steps && !(shouldStop?.() ?? false); step++) {
      const started = performance.now();
      const values = new Float32Array(batchSize * this.imageSize);
      for (let b = 0; b < batchSize; b++) {
        const src = order[step * batchSize + b] * this.imageSize;
        values.set(this.images.images.subarray(src, src + this.imageSize), b * this.imageSize);
      }
      const batch = tf.tensor4d(values, [batchSize, ...this.images.shape]);
      let stats: AutoencoderEpochStats;
      try {
        stats = this.trainStep(batch, epoch * 100_000 + step);
      } finally {
        batch.dispose();
      }
      totals.reconstruction += stats.reconstruction;
      totals.sparsity += stats.sparsity;
      totals.steps++;
      onStep?.({
        epoch,
        step: step + 1,
        stepsPerEpoch: steps,
        reconstruction: stats.reconstruction,
        sparsity: stats.sparsity,
        msPerStep: performance.now() - started,
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const n = Math.max(totals.steps, 1);
    return { reconstruction: totals.reconstruction / n, sparsity: totals.sparsity / n, steps: totals.steps };
  }

  /** decoder(encoder(x)) in inference mode (no noise) for `count` images laid out row-major, one Float32Array per image. */
  reconstruct(images: Float32Array, count: number): Float32Array[] {
    const out = tf.tidy(() => this.decoder.predict(this.encoder.predict(tf.tensor4d(images, [count, ...this.images.shape]))) as tf.Tensor);
    // Read outside the tidy (see TFJS-NOTES).
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return Array.from({ length: count }, (_, i) => data.slice(i * this.imageSize, (i + 1) * this.imageSize));
  }

  /** Mean squared reconstruction error per pixel over `count` images (e.g. the held-out split), in batches. */
  reconstructionError(images: Float32Array, count: number, batchSize = 500): number {
    let sum = 0;
    for (let first = 0; first < count; first += batchSize) {
      const n = Math.min(batchSize, count - first);
      const total = tf.tidy(() => {
        const x = tf.tensor4d(images.subarray(first * this.imageSize, (first + n) * this.imageSize), [n, ...this.images.shape]);
        const y = this.decoder.predict(this.encoder.predict(x)) as tf.Tensor;
        return tf.sum(tf.squaredDifference(y, x));
      });
      sum += readAndDispose(total)[0];
    }
    return count === 0 ? 0 : sum / (count * this.imageSize);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Reads a tensor and frees it (outside any tidy: reading inside one is slow, see TFJS-NOTES). */
function readAndDispose(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
