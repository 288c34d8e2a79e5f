import type * as tf from '@tensorflow/tfjs';
import type { ModelManifest } from '../models/manifest';
import type { Losses } from './dcgan-trainer';
import type { StepEvent } from './session-options';

/**
 * What an epoch measured besides its losses (GAN: D's accuracies, the K+1 test error, and with
 * spec.evalEvery the Inception Score and FID; autoencoder: the held-out reconstruction error).
 */
export interface EpochMetrics {
  dAccuracyReal?: number;
  dAccuracyFake?: number;
  testError?: number;
  reconstructionError?: number;
  /** Inception Score (mean over the splits) of spec.evalSamples samples, on the epochs spec.evalEvery names. */
  inceptionScore?: number;
  /** Its standard deviation over the splits. */
  inceptionScoreStd?: number;
  /** FID of the same samples against the dataset's training split. */
  fid?: number;
}

/** What one completed epoch left in the checkpoint (its metrics flat beside the losses, as state.json has always held them). */
export type EpochRecord = { losses: Losses } & EpochMetrics & { seconds: number };

/** A step as a trainer reports it; the epoch loop adds its throughput. */
export type TrainerStepEvent = Omit<StepEvent, 'imagesPerSecond'>;

/** The steps an epoch did and what they measured. */
export interface TrainedEpoch {
  /** Fewer than stepsPerEpoch(): the epoch was stopped. */
  steps: number;
  losses: Losses;
  metrics: EpochMetrics;
}

/** One tensor of state.bin, by name. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** What a trainer keeps in a checkpoint besides its networks: state.json fields and state.bin tensors. */
export interface TrainerState {
  /** state.json fields of the mode: optimizer records, averaging counts. */
  fields: Record<string, unknown>;
  /** state.bin, in order. */
  tensors: NamedTensor[];
  /** Those of `tensors` made for the checkpoint (copies, Adam's iteration scalars): freed once written. */
  fresh: tf.Tensor[];
}

/** The manifest fields a mode's served networks fill, with the settings recorded in manifest.training.architectureConfig. */
export type ServedVersion = Pick<ModelManifest, 'architecture' | 'latentSize' | 'generatorPath' | 'discriminatorPath' | 'classifier' | 'featureNetwork'> & {
  architectureConfig: ModelManifest['training']['architectureConfig'];
};

/**
 * What a training session needs of a mode's trainer (GAN and K+1: gan-session-trainer.ts; autoencoder:
 * autoencoder-session.ts): the epoch loop, the checkpoint and the version writer see only this.
 */
export interface SessionTrainer {
  /** The networks a checkpoint saves whole, by folder name, and restores layer by layer. */
  readonly networks: Readonly<Record<string, tf.LayersModel>>;
  stepsPerEpoch(): number;
  /** Training images one step consumes (GAN and K+1: its k real batches; autoencoder: its batch): the unit of images/s. */
  imagesPerStep(): number;
  /** Trains epoch `epoch` (0-based) in its seeded order, stopping between steps once shouldStop() says so. */
  trainEpoch(epoch: number, onStep: (e: TrainerStepEvent) => void, shouldStop: () => boolean): Promise<TrainedEpoch>;
  /** Held-out metrics after 1-based `epoch` (the K+1 test error, the reconstruction error, the evaluation when due). */
  heldOutMetrics(epoch: number): Promise<EpochMetrics>;
  /** The PNG grid of this epoch, on fixed noise or fixed held-out images. */
  samplesPng(): Buffer;
  /** The losses and metrics of a completed epoch, for the log. */
  describe(record: EpochRecord): string;
  checkpointState(): Promise<TrainerState>;
  /** Sets the optimizer and averaging state from checkpointState()'s fields and tensors of an earlier run. */
  restoreState(fields: Readonly<Record<string, unknown>>, tensors: tf.NamedTensorMap): Promise<void>;
  /** Saves the served networks into the version folder `dir`; returns the manifest fields naming them. */
  saveServed(dir: string): Promise<ServedVersion>;
  dispose(): void;
}
