import type { ModelManifest } from '../models/manifest';
import type { Losses } from './dcgan-trainer';

/** One generator step done. */
export interface StepEvent {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  losses: Losses;
  msPerStep: number;
  /** Training images this step consumed (SessionTrainer.imagesPerStep) per second of msPerStep. */
  imagesPerSecond: number;
}

/** One epoch done and checkpointed. */
export interface EpochEvent {
  /** 1-based epoch just completed. */
  epoch: number;
  epochs: number;
  /** Mean losses over the epoch's steps (autoencoder: generator = reconstruction MSE, discriminator = weighted sparsity penalty). */
  losses: Losses;
  /** Fraction of real images with D(x) > 0.5, over the epoch's D steps (autoencoder: 0, there is no D). */
  dAccuracyReal: number;
  /** Fraction of generated images with D(G(z)) < 0.5 (autoencoder: 0). */
  dAccuracyFake: number;
  /** kplusone: fraction of the held-out test split the classifier gets wrong. */
  testError?: number;
  /** autoencoder: per-pixel MSE of the reconstructions of the held-out test split. */
  reconstructionError?: number;
  /** spec.evalEvery, on the epochs it names: Inception Score (mean and std over the splits) and FID of spec.evalSamples samples. */
  inceptionScore?: number;
  inceptionScoreStd?: number;
  fid?: number;
  /** Seconds this epoch took (training, evaluation and checkpoint). */
  seconds: number;
  /** Training images the epoch's steps consumed per second of their training (evaluation and checkpoint not counted). */
  imagesPerSecond: number;
  /** 8x8 grid PNG of G on the run's fixed seeded noise; autoencoder: rows of 8 fixed held-out digits, each followed by a row of their reconstructions. */
  samplesPng: Buffer;
}

/** Where the per-epoch evaluation looks for scorers when SessionOptions.scorersDir is not given: the shipped ones, from the working folder. */
export const DEFAULT_SCORERS_DIR = 'models/scorers';

export interface SessionOptions {
  /** The version folder written at the end: manifest.json, generator/, discriminator/, classifier/ (kplusone), samples/, samples.png; checkpoint/ while running. */
  outDir: string;
  /** manifest.name. */
  name: string;
  /** manifest.version; default the finish time, e.g. "2026-11-27T04-42". */
  version?: string;
  /** Recorded in manifest.training.command. */
  command: string;
  /** Continue from outDir/checkpoint (weights, optimizer moments, running means, epoch records); an error if there is none. */
  resume?: boolean;
  /** Absolute folder of a model version whose generator and discriminator weights the run starts from. */
  fineTuneFrom?: string;
  /** Where to write a full servable version of `epoch` when spec.keepEvery divides it; undefined skips it. */
  keepDir?: (epoch: number) => string | undefined;
  /** Polled between steps: true stops the session at the last checkpoint (the last complete epoch). */
  shouldStop?: () => boolean;
  /** Folder of scorers (one sub-folder each, with scorer.json) the per-epoch evaluation (spec.evalEvery) takes the dataset's from; default DEFAULT_SCORERS_DIR. */
  scorersDir?: string;
  onStep?(e: StepEvent): void;
  onEpoch?(e: EpochEvent): void | Promise<void>;
  onKeep?(dir: string, manifest: ModelManifest): void | Promise<void>;
  log?: (msg: string) => void;
}

export type SessionResult = { status: 'finished'; dir: string; manifest: ModelManifest } | { status: 'stopped'; completedEpochs: number };
