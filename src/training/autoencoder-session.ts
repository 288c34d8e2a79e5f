import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { loadTrainingData, type TrainingData } from '../data/training-data';
import { badInput } from '../errors/ganql-error';
import { gridPng } from '../images/grid';
import { saveLayersModel } from '../models/io';
import {
  buildDecoder,
  buildEncoder,
  encoderForServing,
  resolveSparseAutoencoderConfig,
  sparseLayerNames,
  type SparseAutoencoderConfig,
} from '../models/sparse-autoencoder';
import { AutoencoderTrainer, type AutoencoderTrainerOptions } from './autoencoder-trainer';
import { adamState, restoreAdam, type OptimizerRecord } from './checkpoint';
import { runEpochs } from './epoch-loop';
import type { SessionOptions, SessionResult } from './session-options';
import type { EpochMetrics, EpochRecord, ServedVersion, SessionTrainer, TrainedEpoch, TrainerState, TrainerStepEvent } from './session-trainer';
import type { TrainingSpec } from './training-spec';

/**
 * The sparse autoencoder's settings beside spec.latentSize (its code size): fixed here rather than
 * spec fields, and recorded in the manifest's architectureConfig. Chosen on MNIST so that single
 * units become digit detectors (README: the best unit per digit).
 */
export const AUTOENCODER_SETTINGS = Object.freeze({
  /** The encoder's hidden sigmoid layers before the code (enc_hidden1, ...); the decoder mirrors them. */
  hiddenUnits: [256],
  /** Stddev of the Gaussian noise on the encoder's input in training (denoising), on [-1, 1] pixels. */
  inputNoise: 0.5,
  /**
   * rho: the mean activation each sigmoid unit is pushed towards. 0.1, about one digit class in ten:
   * on 10-epoch MNIST trials it gave more digit-selective units than the UFLDL notes' 0.05.
   */
  sparsityTarget: 0.1,
  /** beta: weight of the mean KL sparsity penalty against the per-pixel reconstruction MSE. */
  sparsityWeight: 1,
});

/**
 * The network config and trainer options of an autoencoder run on images `imageSize` pixels a side:
 * one place for them, so bench/train-step.ts times the step a training job runs.
 */
export function autoencoderSetup(
  spec: Pick<TrainingSpec, 'latentSize' | 'seed' | 'batchSize' | 'learningRate' | 'beta1'>,
  imageSize: number,
): { config: SparseAutoencoderConfig; trainer: AutoencoderTrainerOptions } {
  const config = resolveSparseAutoencoderConfig({
    imageSize,
    hiddenUnits: [...AUTOENCODER_SETTINGS.hiddenUnits],
    codeSize: spec.latentSize,
    inputNoise: AUTOENCODER_SETTINGS.inputNoise,
    seed: spec.seed,
  });
  const trainer: AutoencoderTrainerOptions = {
    batchSize: spec.batchSize,
    learningRate: spec.learningRate,
    beta1: spec.beta1,
    seed: spec.seed,
    sparseLayers: sparseLayerNames(config),
    sparsityTarget: AUTOENCODER_SETTINGS.sparsityTarget,
    sparsityWeight: AUTOENCODER_SETTINGS.sparsityWeight,
  };
  return { config, trainer };
}

/** Held-out digits in the per-epoch grid: each row of 8 originals is followed by their 8 reconstructions. */
const RECONSTRUCTION_PAIRS = 32;

/**
 * Autoencoder mode of runTrainingSession: the encoder and decoder of src/models/sparse-autoencoder.ts
 * trained by AutoencoderTrainer through the epoch loop, the version folder holding the served
 * encoder (the feature network), the decoder (served as the generator: samples decode random codes),
 * the per-epoch grids of held-out reconstructions and the manifest. Events reuse the GAN fields:
 * losses.generator = reconstruction MSE, losses.discriminator = the weighted sparsity penalty,
 * dAccuracyReal = dAccuracyFake = 0 (there is no discriminator).
 */
export async function runAutoencoderSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  const log = options.log ?? (() => undefined);
  if (options.fineTuneFrom !== undefined) {
    throw badInput(`fineTuneFrom: expected none in autoencoder mode (an autoencoder trains from scratch), got ${JSON.stringify(options.fineTuneFrom)}`);
  }
  const data = await loadTrainingData(spec.dataset, 'train', { limit: spec.limit });
  const test = await loadTrainingData(spec.dataset, 'test');
  log(`${spec.dataset}: ${data.count} training images (labels unused), ${test.count} held-out test images`);
  const { config, trainer: trainerOptions } = autoencoderSetup(spec, data.shape[0]);
  const encoder = buildEncoder(config);
  const decoder = buildDecoder(config);
  let trainer: AutoencoderSessionTrainer | undefined;
  try {
    const inner = new AutoencoderTrainer(encoder, decoder, { images: data.images, count: data.count, shape: data.shape }, trainerOptions);
    trainer = new AutoencoderSessionTrainer(spec, config, inner, data, test);
    return await runEpochs(trainer, spec, data, options);
  } finally {
    trainer?.dispose();
    encoder.dispose();
    decoder.dispose();
  }
}

/** state.json fields of an autoencoder checkpoint. */
interface AutoencoderCheckpointFields {
  /** Adam over both networks: its iteration count and moments are in the tensors, its beta powers here. */
  optimizer: OptimizerRecord;
}

/** AutoencoderTrainer as the session sees it: its grid pairs fixed held-out digits with their reconstructions. */
class AutoencoderSessionTrainer implements SessionTrainer {
  readonly networks: Readonly<Record<string, tf.LayersModel>>;
  /** The first held-out digits of the fixed split: the same for every run and every epoch. */
  private readonly fixed: Float32Array;
  private readonly pairs: number;

  constructor(
    private readonly spec: TrainingSpec,
    private readonly config: SparseAutoencoderConfig,
    private readonly trainer: AutoencoderTrainer,
    private readonly data: TrainingData,
    private readonly test: TrainingData,
  ) {
    this.networks = { encoder: trainer.encoder, decoder: trainer.decoder };
    this.pairs = Math.min(RECONSTRUCTION_PAIRS, test.count);
    this.fixed = test.images.subarray(0, this.pairs * this.imageSize());
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
          losses: { generator: p.reconstruction, discriminator: p.sparsity },
          msPerStep: p.msPerStep,
        }),
      undefined,
      shouldStop,
    );
    return { steps: stats.steps, losses: { generator: stats.reconstruction, discriminator: stats.sparsity }, metrics: {} };
  }

  heldOutMetrics(): Promise<EpochMetrics> {
    return Promise.resolve({ reconstructionError: this.trainer.reconstructionError(this.test.images, this.test.count) });
  }

  samplesPng(): Buffer {
    const size = this.imageSize();
    const reconstructed = this.trainer.reconstruct(this.fixed, this.pairs);
    const originals = Array.from({ length: this.pairs }, (_, i) => this.fixed.slice(i * size, (i + 1) * size));
    const tiles: Float32Array[] = [];
    for (let row = 0; row < this.pairs; row += 8) tiles.push(...originals.slice(row, row + 8), ...reconstructed.slice(row, row + 8));
    // Both datasets are grayscale 28x28.
    return gridPng(tiles, { width: this.data.shape[1], height: this.data.shape[0], channels: 1, range: [-1, 1], columns: 8 });
  }

  describe(r: EpochRecord): string {
    return `reconstruction ${r.losses.generator.toFixed(4)} sparsity ${r.losses.discriminator.toFixed(4)}, held-out reconstruction MSE ${(r.reconstructionError ?? 0).toFixed(4)}`;
  }

  async checkpointState(): Promise<TrainerState> {
    const adam = await adamState(this.trainer.optimizer, 'adam');
    const fields: AutoencoderCheckpointFields = { optimizer: adam.record };
    return { fields: { ...fields }, tensors: adam.tensors, fresh: adam.fresh };
  }

  async restoreState(saved: Readonly<Record<string, unknown>>, tensors: tf.NamedTensorMap): Promise<void> {
    // Written by checkpointState.
    const fields = saved as unknown as AutoencoderCheckpointFields;
    await restoreAdam(this.trainer.optimizer, 'adam', fields.optimizer, tensors);
  }

  /** Saves the encoder without its noise layer (the feature network) and the decoder (the generator). */
  async saveServed(dir: string): Promise<ServedVersion> {
    const { spec, config } = this;
    const served = encoderForServing(this.trainer.encoder, config);
    try {
      await saveLayersModel(served, path.join(dir, 'encoder'));
    } finally {
      served.dispose();
    }
    await saveLayersModel(this.trainer.decoder, path.join(dir, 'decoder'));
    return {
      architecture: 'autoencoder',
      latentSize: config.codeSize,
      generatorPath: 'decoder',
      featureNetwork: { path: 'encoder', role: 'encoder', inputRange: [-1, 1] },
      architectureConfig: {
        mode: spec.mode,
        specArchitecture: spec.architecture,
        hiddenUnits: config.hiddenUnits.join('-'),
        codeSize: config.codeSize,
        inputNoise: config.inputNoise,
        sparsityTarget: AUTOENCODER_SETTINGS.sparsityTarget,
        sparsityWeight: AUTOENCODER_SETTINGS.sparsityWeight,
        ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      },
    };
  }

  dispose(): void {
    this.trainer.dispose();
  }

  private imageSize(): number {
    return this.data.shape[0] * this.data.shape[1] * this.data.shape[2];
  }
}
