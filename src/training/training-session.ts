import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices } from '../data/prng';
import { loadTrainingData, type TrainingData } from '../data/training-data';
import { badInput } from '../errors/ganql-error';
import { gridPng } from '../images/grid';
import { buildDiscriminator, buildGenerator, resolveDcganConfig } from '../models/dcgan';
import { copyLayerWeights } from '../models/copy-weights';
import { freezeVirtualBatchNorm } from '../models/freeze-vbn';
import { loadLayersModel, saveLayersModel } from '../models/io';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, kPlusOneClassifierOf, resolveKPlusOneMlpConfig, type KPlusOneMlpConfig } from '../models/kplusone-mlp';
import { initWeightNorm, WeightNormDense, withPlainDense } from '../models/layers/weight-norm-dense';
import { readManifest, type ModelManifest } from '../models/manifest';
import { buildMlpDiscriminator, buildMlpGenerator, resolveMlpGanConfig } from '../models/mlp-gan';
import { buildDecoder, buildEncoder, encoderForServing, resolveSparseAutoencoderConfig, sparseLayerNames, type SparseAutoencoderConfig } from '../models/sparse-autoencoder';
import { AutoencoderTrainer } from './autoencoder-trainer';
import { DcganTrainer, seededNoise, vbnReferenceNoise, type EpochStats, type Losses } from './dcgan-trainer';
import { classificationError, KPlusOneTrainer, selectLabelled, type LabelledImages } from './kplusone-trainer';
import type { TrainingSpec } from './training-spec';

/** One generator step done. */
export interface StepEvent {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  losses: Losses;
  msPerStep: number;
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
  /** Seconds this epoch took (training, evaluation and checkpoint). */
  seconds: number;
  /** 8x8 grid PNG of G on the run's fixed seeded noise; autoencoder: rows of 8 fixed held-out digits, each followed by a row of their reconstructions. */
  samplesPng: Buffer;
}

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
  onStep?(e: StepEvent): void;
  onEpoch?(e: EpochEvent): void | Promise<void>;
  onKeep?(dir: string, manifest: ModelManifest): void | Promise<void>;
  log?: (msg: string) => void;
}

export type SessionResult = { status: 'finished'; dir: string; manifest: ModelManifest } | { status: 'stopped'; completedEpochs: number };

/** What one completed epoch left in the checkpoint. */
interface EpochRecord {
  losses: Losses;
  dAccuracyReal: number;
  dAccuracyFake: number;
  testError?: number;
  seconds: number;
}

/** checkpoint/state.json: written last, so a checkpoint folder with it is complete. */
interface CheckpointState {
  spec: TrainingSpec;
  completedEpochs: number;
  epochs: EpochRecord[];
  elapsedSeconds: number;
  /** Adam's iteration count is in the tensors; its beta powers are kept bit-exact here. */
  optimizers: { g: OptimizerRecord; d: OptimizerRecord };
  historicalAverageSteps?: number;
  /** Updates folded into the moving average of D (K+1 training). */
  movingAverageSteps?: number;
  /** tf.io weight specs of checkpoint/state.bin (optimizer moments, then running means). */
  tensorSpecs: tf.io.WeightsManifestEntry[];
}

interface OptimizerRecord {
  weights: number;
  accBeta1: number;
  accBeta2: number;
}

const SAMPLE_COUNT = 64;
/** The fixed noise of the sample grids is seeded apart from the training noise (as the CLI always did). */
export const SAMPLE_NOISE_SALT = 1_000_003;
/** Unsupervised weight of the K+1 loss: the paper's code (0.5 on each unsupervised term). */
const K_PLUS_ONE_UNSUPERVISED_WEIGHT = 0.5;
/**
 * Rate of the moving average of D's parameters that the K+1 classifier is evaluated and served with.
 * The paper's code uses 0.0001 over 180,000 steps; ours run ~100x fewer steps, so the window is ~200 steps.
 */
const K_PLUS_ONE_AVERAGE_RATE = 0.005;

type Trainer = DcganTrainer | KPlusOneTrainer;

interface Models {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  /** Passed to the builders; recorded in the manifest. */
  architectureConfig: Record<string, number | string | boolean>;
  /** kplusone mlp: the config of the served classifier (D without its noise layers). */
  kPlusOneConfig?: KPlusOneMlpConfig;
}

/** Builds G and D for the spec's mode and architecture, with the weights seeded by spec.seed. */
export function buildModels(spec: TrainingSpec, classes: number): Models {
  const { latentSize, seed, techniques } = spec;
  const vbn = techniques.virtualBatchNorm;
  const mbd = techniques.minibatchDiscrimination;
  if (spec.architecture === 'dcgan') {
    const config = resolveDcganConfig({ latentSize, seed });
    const kPlusOne = spec.mode === 'kplusone' ? { classes } : {};
    return {
      generator: buildGenerator(config, { virtualBatchNorm: vbn }),
      discriminator: buildDiscriminator(config, { minibatchDiscrimination: mbd, ...kPlusOne }),
      architectureConfig: { ...config },
    };
  }
  if (spec.mode === 'kplusone') {
    const config = resolveKPlusOneMlpConfig({ latentSize, seed, classes });
    return {
      generator: buildKPlusOneGenerator(config, { virtualBatchNorm: vbn }),
      discriminator: buildKPlusOneDiscriminator(config),
      architectureConfig: {
        ...config,
        discriminatorUnits: config.discriminatorUnits.join('-'),
        generatorUnits: config.generatorUnits.join('-'),
      },
      kPlusOneConfig: config,
    };
  }
  // checkTrainingSpec rejects VBN and minibatch discrimination with the Goodfellow MLP GAN (no batchnorm, no flatten layer).
  const config = resolveMlpGanConfig({ latentSize, seed });
  return { generator: buildMlpGenerator(config), discriminator: buildMlpDiscriminator(config), architectureConfig: { ...config } };
}

/** The switches that are on, flattened for the manifest's architectureConfig. */
function techniqueRecord(spec: TrainingSpec): Record<string, number | string> {
  const t = spec.techniques;
  const record: Record<string, number | string> = { mode: spec.mode, k: spec.k, generatorLoss: spec.generatorLoss };
  if (spec.labelsPerClass !== undefined) record.labelsPerClass = spec.labelsPerClass;
  if (t.labelSmoothing !== undefined) record.labelSmoothing = t.labelSmoothing;
  if (t.featureMatching !== undefined) record.featureMatchingLayer = t.featureMatching.layer;
  if (t.historicalAveraging !== undefined) record.historicalAveragingWeight = t.historicalAveraging.weight;
  if (t.minibatchDiscrimination !== undefined) {
    record.minibatchKernels = t.minibatchDiscrimination.kernels;
    record.minibatchKernelDim = t.minibatchDiscrimination.kernelDim;
  }
  if (t.virtualBatchNorm !== undefined) record.virtualBatchNormReferenceSize = t.virtualBatchNorm.referenceSize;
  if (spec.limit !== undefined) record.limit = spec.limit;
  return record;
}

/** "2026-11-27T04-42": the default version label. */
export function timeLabel(date: Date): string {
  return date.toISOString().slice(0, 16).replace(':', '-');
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Runs one training described by `spec` to the end (or until shouldStop), checkpointing after every
 * epoch, and writes the servable version folder options.outDir. Deterministic given spec.seed on one
 * backend, across stop and resume. The caller initialises the tfjs backend.
 */
export async function runTrainingSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  if (spec.mode === 'autoencoder') return runAutoencoderSession(spec, options);
  const log = options.log ?? (() => undefined);
  const outDir = path.resolve(options.outDir);
  const checkpointDir = path.join(outDir, 'checkpoint');
  const data = await loadTrainingData(spec.dataset, 'train', { limit: spec.limit });
  log(`${spec.dataset}: ${data.count} training images`);
  const classes = data.classes.length;

  let labelled: LabelledImages | undefined;
  let test: TrainingData | undefined;
  if (spec.mode === 'kplusone') {
    const perClass = spec.labelsPerClass ?? 0;
    let picked: Uint32Array;
    try {
      picked = selectLabelled(data.labels, classes, perClass, spec.seed);
    } catch (err) {
      throw badInput(`${(err as Error).message} (in the ${data.count} training images)`);
    }
    labelled = labelledSubset(data, picked);
    test = await loadTrainingData(spec.dataset, 'test');
    log(`kplusone: ${labelled.count} labelled of ${data.count} training images, ${test.count} held-out test images`);
  }

  const models = buildModels(spec, classes);
  const { generator, discriminator } = models;
  let trainer: Trainer | undefined;
  try {
    let state: CheckpointState | undefined;
    if (options.resume) {
      state = await loadCheckpoint(checkpointDir, spec, generator, discriminator);
      log(`resuming after epoch ${state.completedEpochs} of ${spec.epochs}`);
    } else if (options.fineTuneFrom !== undefined) {
      await loadFineTuneWeights(options.fineTuneFrom, spec, data, generator, discriminator);
      log(`fine-tuning from ${options.fineTuneFrom}`);
    } else {
      initFromData(discriminator, data, spec.seed);
    }
    trainer = makeTrainer(spec, generator, discriminator, data, labelled);
    if (state !== undefined) await restoreTrainerState(trainer, checkpointDir, state);

    const fixedNoise = seededNoise(SAMPLE_COUNT, spec.latentSize, spec.seed + SAMPLE_NOISE_SALT);
    const t = trainer;
    // Both datasets are grayscale 28x28.
    const grid = (): Buffer => gridPng(t.generate(fixedNoise, SAMPLE_COUNT), { width: data.shape[1], height: data.shape[0], channels: 1, range: [-1, 1], columns: 8 });

    const records: EpochRecord[] = state?.epochs ?? [];
    const started = performance.now() - (state?.elapsedSeconds ?? 0) * 1000;
    await fs.mkdir(path.join(outDir, 'samples'), { recursive: true });
    if (state === undefined) await saveCheckpoint(checkpointDir, trainer, spec, records, 0);

    const stop = options.shouldStop ?? (() => false);
    for (let epoch = records.length; epoch < spec.epochs; epoch++) {
      const epochStarted = performance.now();
      const stats: EpochStats = await trainer.trainEpoch(
        epoch,
        (p) => options.onStep?.({ ...p, epoch: epoch + 1 }),
        undefined,
        stop,
      );
      if (stats.steps < trainer.stepsPerEpoch()) {
        log(`stopped during epoch ${epoch + 1}: keeping the checkpoint of epoch ${records.length}`);
        return { status: 'stopped', completedEpochs: records.length };
      }
      const testSet = test;
      const testError = testSet === undefined ? undefined : withAveragedD(trainer, () => classificationError(discriminator, testSet, testSet.shape));
      const samplesPng = grid();
      const label = String(epoch + 1).padStart(3, '0');
      await writeAtomic(path.join(outDir, 'samples', `epoch-${label}.png`), samplesPng);
      const record: EpochRecord = {
        losses: { generator: stats.generator, discriminator: stats.discriminator },
        dAccuracyReal: stats.dAccuracyReal,
        dAccuracyFake: stats.dAccuracyFake,
        ...(testError !== undefined ? { testError } : {}),
        seconds: 0,
      };
      records.push(record);
      record.seconds = (performance.now() - epochStarted) / 1000;
      await saveCheckpoint(checkpointDir, trainer, spec, records, (performance.now() - started) / 1000);
      record.seconds = (performance.now() - epochStarted) / 1000;
      log(
        `epoch ${epoch + 1} done: D ${stats.discriminator.toFixed(4)} G ${stats.generator.toFixed(4)}, ` +
          `D accuracy real ${stats.dAccuracyReal.toFixed(3)} fake ${stats.dAccuracyFake.toFixed(3)}` +
          `${testError !== undefined ? `, test error ${(testError * 100).toFixed(2)}%` : ''}, ${record.seconds.toFixed(1)} s, tensors ${tf.memory().numTensors}`,
      );
      await options.onEpoch?.({ epoch: epoch + 1, epochs: spec.epochs, ...record, samplesPng });
      const keep = spec.keepEvery !== undefined && (epoch + 1) % spec.keepEvery === 0 ? options.keepDir?.(epoch + 1) : undefined;
      if (keep !== undefined) {
        const version = `${options.version ?? timeLabel(new Date())}-epoch-${label}`;
        const manifest = await writeVersion(path.resolve(keep), { spec, options, models, trainer, data, records, version, started, samplesPng });
        await options.onKeep?.(path.resolve(keep), manifest);
      }
    }

    const finishedAt = new Date();
    const manifest = await writeVersion(outDir, {
      spec, options, models, trainer, data, records, version: options.version ?? timeLabel(finishedAt), started, samplesPng: grid(), finishedAt,
    });
    // The final models are the last checkpoint's; keep the version folder small.
    await fs.rm(checkpointDir, { recursive: true, force: true });
    return { status: 'finished', dir: outDir, manifest };
  } finally {
    trainer?.dispose();
    generator.dispose();
    discriminator.dispose();
  }
}

/** Images of the data-dependent init of weight-normalised layers; 500 as in the paper's code. */
const WEIGHT_NORM_INIT_IMAGES = 500;

/** Data-dependent init of D's weight-normalised layers (G's output layer keeps g = 1, as in the paper's code) (the K+1 MLP's) on a seeded batch of training images; a no-op for other models. */
function initFromData(discriminator: tf.LayersModel, data: TrainingData, seed: number): void {
  if (!discriminator.layers.some((l) => l instanceof WeightNormDense)) return;
  const n = Math.min(WEIGHT_NORM_INIT_IMAGES, data.count);
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const order = shuffledIndices(data.count, createPrng(seed * 7919 + 6));
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) images.set(data.images.subarray(order[i] * size, (order[i] + 1) * size), i * size);
  const batch = tf.tensor4d(images, [n, ...data.shape]);
  try {
    initWeightNorm(discriminator, batch);
  } finally {
    batch.dispose();
  }
}

/** fn with D at its moving average (K+1 training with averaging), else as it is. */
function withAveragedD<T>(trainer: Trainer, fn: () => T): T {
  return trainer instanceof KPlusOneTrainer ? trainer.withAveragedDiscriminator(fn) : fn();
}

/** withAveragedD for async work: the averaged weights stay in place until fn settles. */
async function withAveragedDAsync<T>(trainer: Trainer, fn: () => Promise<T>): Promise<T> {
  const average = trainer instanceof KPlusOneTrainer ? trainer.dMovingAverage : null;
  return average === null ? fn() : average.withAveragesAsync(fn);
}

function labelledSubset(data: TrainingData, picked: Uint32Array): LabelledImages {
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const images = new Float32Array(picked.length * size);
  const labels = new Uint8Array(picked.length);
  picked.forEach((src, i) => {
    images.set(data.images.subarray(src * size, (src + 1) * size), i * size);
    labels[i] = data.labels[src];
  });
  return { images, labels, count: picked.length };
}

function makeTrainer(spec: TrainingSpec, generator: tf.LayersModel, discriminator: tf.LayersModel, data: TrainingData, labelled: LabelledImages | undefined): Trainer {
  const images = { images: data.images, count: data.count, shape: data.shape };
  const t = spec.techniques;
  const common = { batchSize: spec.batchSize, learningRate: spec.learningRate, beta1: spec.beta1, k: spec.k, seed: spec.seed };
  if (spec.mode === 'kplusone') {
    if (labelled === undefined || t.featureMatching === undefined) throw new Error('kplusone: expected labelled images and a feature-matching layer (checkTrainingSpec ensures both)');
    return new KPlusOneTrainer(generator, discriminator, images, labelled, {
      ...common,
      featureLayer: t.featureMatching.layer,
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
  });
}

interface VersionInput {
  spec: TrainingSpec;
  options: SessionOptions;
  models: Models;
  trainer: Trainer;
  data: TrainingData;
  records: EpochRecord[];
  version: string;
  started: number;
  samplesPng: Buffer;
  finishedAt?: Date;
}

/** Writes a servable version folder (generator with VBN frozen, discriminator, classifier, samples.png, manifest.json). */
async function writeVersion(dir: string, v: VersionInput): Promise<ModelManifest> {
  const { spec, models, data, records } = v;
  await fs.mkdir(dir, { recursive: true });
  const vbn = spec.techniques.virtualBatchNorm;
  let frozen: tf.LayersModel | null = null;
  if (vbn !== undefined) {
    const reference = vbnReferenceNoise(vbn.referenceSize, spec.latentSize, spec.seed);
    try {
      frozen = await freezeVirtualBatchNorm(models.generator, reference);
    } finally {
      reference.dispose();
    }
  }
  // Weight-normalised layers (the K+1 MLP's output layer) become plain dense ones: the saved generator uses standard layers only.
  let plain: tf.LayersModel | null = null;
  try {
    plain = await withPlainDense(frozen ?? models.generator);
    await saveLayersModel(plain ?? frozen ?? models.generator, path.join(dir, 'generator'));
  } finally {
    plain?.dispose();
    frozen?.dispose();
  }
  await saveLayersModel(models.discriminator, path.join(dir, 'discriminator'));
  if (spec.mode === 'kplusone') {
    // The MLP's D carries noise layers; the served classifier is the same network without them.
    // The classifier is served with the averaged parameters its test error was measured with.
    const config = models.kPlusOneConfig;
    const classifier = config !== undefined
      ? withAveragedD(v.trainer, () => kPlusOneClassifierOf(models.discriminator, config))
      : await withAveragedDAsync(v.trainer, async () => {
          await saveLayersModel(models.discriminator, path.join(dir, 'classifier'));
          return null;
        });
    try {
      if (classifier !== null) await saveLayersModel(classifier, path.join(dir, 'classifier'));
    } finally {
      classifier?.dispose();
    }
  }
  await writeAtomic(path.join(dir, 'samples.png'), v.samplesPng);
  const last = records[records.length - 1];
  const finishedAt = v.finishedAt ?? new Date();
  const metrics: Record<string, number> = { dAccuracyReal: last.dAccuracyReal, dAccuracyFake: last.dAccuracyFake };
  if (last.testError !== undefined) metrics.testError = last.testError;
  const manifest: ModelManifest = {
    formatVersion: 1,
    name: v.options.name,
    version: v.version,
    architecture: spec.architecture,
    dataset: spec.dataset,
    latentSize: spec.latentSize,
    imageShape: data.shape,
    outputRange: [-1, 1],
    generatorPath: 'generator',
    discriminatorPath: 'discriminator',
    ...(spec.mode === 'kplusone' ? { classifier: { path: 'classifier', classes: [...data.classes], inputRange: [-1, 1] as [number, number] } } : {}),
    training: provenance(v, last.losses, finishedAt, { ...models.architectureConfig, ...techniqueRecord(spec) }, metrics),
  };
  await writeAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

// ---- checkpoints ----------------------------------------------------------------------------

/** Adam's beta powers are private fields; they are read and set here so a resumed run repeats bit for bit. */
interface AdamBetaPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function betaPowers(o: tf.AdamOptimizer): AdamBetaPowers {
  // tfjs 4.22's AdamOptimizer keeps accBeta1/accBeta2 as scalar variables (adam_optimizer.js).
  return o as unknown as AdamBetaPowers;
}

/** Writes checkpoint.next completely, then swaps it in for checkpoint (state.json last: its presence marks a whole checkpoint). */
async function saveCheckpoint(dir: string, trainer: Trainer, spec: TrainingSpec, records: EpochRecord[], elapsedSeconds: number): Promise<void> {
  await swapInCheckpoint(dir, async (next) => {
    await saveLayersModel(trainer.generator, path.join(next, 'generator'));
    await saveLayersModel(trainer.discriminator, path.join(next, 'discriminator'));
    const g = await trainer.gOptimizer.getWeights();
    const d = await trainer.dOptimizer.getWeights();
    const means = [...(trainer.gAverage?.snapshot() ?? []), ...(trainer.dAverage?.snapshot() ?? [])];
    const moving = trainer instanceof KPlusOneTrainer ? trainer.dMovingAverage : null;
    const averages = moving?.snapshot() ?? [];
    const named: { name: string; tensor: tf.Tensor }[] = [
      ...g.map((w, i) => ({ name: `g/${i}`, tensor: w.tensor })),
      ...d.map((w, i) => ({ name: `d/${i}`, tensor: w.tensor })),
      ...means.map((tensor, i) => ({ name: `mean/${i}`, tensor })),
      ...averages.map((tensor, i) => ({ name: `avg/${i}`, tensor })),
    ];
    const encoded = await tf.io.encodeWeights(named);
    // Adam's iteration scalars are fresh tensors; its moments and the snapshots are ours to free or live variables.
    tf.dispose([g[0]?.tensor, d[0]?.tensor, ...means, ...averages].filter((x): x is tf.Tensor => x !== undefined));
    const record = (o: tf.AdamOptimizer, weights: number): OptimizerRecord => ({
      weights,
      accBeta1: betaPowers(o).accBeta1.dataSync()[0],
      accBeta2: betaPowers(o).accBeta2.dataSync()[0],
    });
    const state: CheckpointState = {
      spec,
      completedEpochs: records.length,
      epochs: records,
      elapsedSeconds,
      optimizers: { g: record(trainer.gOptimizer, g.length), d: record(trainer.dOptimizer, d.length) },
      ...(trainer.gAverage !== null ? { historicalAverageSteps: trainer.gAverage.count } : {}),
      ...(moving !== null ? { movingAverageSteps: moving.count } : {}),
      tensorSpecs: encoded.specs,
    };
    await writeAtomic(path.join(next, 'state.bin'), Buffer.from(encoded.data));
    await writeAtomic(path.join(next, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  });
}

/** Has `fill` write checkpoint.next completely (state.json last), then swaps it in for checkpoint. */
async function swapInCheckpoint(dir: string, fill: (next: string) => Promise<void>): Promise<void> {
  const next = `${dir}.next`;
  await fs.rm(next, { recursive: true, force: true });
  await fs.mkdir(next, { recursive: true });
  await fill(next);
  const old = `${dir}.old`;
  await fs.rm(old, { recursive: true, force: true });
  if (await exists(dir)) await fs.rename(dir, old);
  await fs.rename(next, dir);
  await fs.rm(old, { recursive: true, force: true });
}

/** The newest complete checkpoint: checkpoint, or checkpoint.next / checkpoint.old left by a crash mid-swap. */
async function findCheckpoint(dir: string): Promise<string | undefined> {
  for (const candidate of [dir, `${dir}.next`, `${dir}.old`]) {
    if (await exists(path.join(candidate, 'state.json'))) return candidate;
  }
  return undefined;
}

/** Fields of the spec a resumed run may change: how long it runs and what it keeps. */
const RESUMABLE_CHANGES = new Set(['epochs', 'keepEvery']);

/** A resumed run may change only RESUMABLE_CHANGES, and must run at least the epochs already done. */
function checkResumedSpec(saved: TrainingSpec, completedEpochs: number, spec: TrainingSpec): void {
  const keys = new Set([...Object.keys(spec), ...Object.keys(saved)]);
  for (const key of keys) {
    if (RESUMABLE_CHANGES.has(key)) continue;
    const was = JSON.stringify((saved as unknown as Record<string, unknown>)[key]);
    const now = JSON.stringify((spec as unknown as Record<string, unknown>)[key]);
    if (was !== now) throw badInput(`resume: expected ${key} ${was ?? 'absent'} as in the checkpoint, got ${now ?? 'absent'}`);
  }
  if (completedEpochs > spec.epochs) throw badInput(`epochs: expected at least the ${completedEpochs} epochs the checkpoint has done, got ${spec.epochs}`);
}

async function loadCheckpoint(dir: string, spec: TrainingSpec, generator: tf.LayersModel, discriminator: tf.LayersModel): Promise<CheckpointState> {
  const found = await findCheckpoint(dir);
  if (found === undefined) throw badInput(`resume: expected a checkpoint in ${dir} (state.json), got none`);
  const state = JSON.parse(await fs.readFile(path.join(found, 'state.json'), 'utf8')) as CheckpointState;
  checkResumedSpec(state.spec, state.completedEpochs, spec);
  await copyWeights(path.join(found, 'generator'), generator, 'resume');
  await copyWeights(path.join(found, 'discriminator'), discriminator, 'resume');
  state.epochs = state.epochs.slice(0, state.completedEpochs);
  (state as CheckpointState & { folder?: string }).folder = found;
  return state;
}

async function restoreTrainerState(trainer: Trainer, checkpointDir: string, state: CheckpointState): Promise<void> {
  const folder = (state as CheckpointState & { folder?: string }).folder ?? checkpointDir;
  const bytes = await fs.readFile(path.join(folder, 'state.bin'));
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), state.tensorSpecs);
  try {
    const restore = async (o: tf.AdamOptimizer, prefix: string, rec: OptimizerRecord): Promise<void> => {
      const weights = Array.from({ length: rec.weights }, (_, i) => ({ name: `${prefix}/${i}`, tensor: map[`${prefix}/${i}`] }));
      if (weights.length > 0) await o.setWeights(weights);
      tf.tidy(() => {
        betaPowers(o).accBeta1.assign(tf.scalar(rec.accBeta1));
        betaPowers(o).accBeta2.assign(tf.scalar(rec.accBeta2));
      });
    };
    await restore(trainer.gOptimizer, 'g', state.optimizers.g);
    await restore(trainer.dOptimizer, 'd', state.optimizers.d);
    if (trainer.gAverage !== null && trainer.dAverage !== null) {
      const means = Object.keys(map).filter((k) => k.startsWith('mean/')).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))).map((k) => map[k]);
      const gCount = trainer.generator.trainableWeights.length;
      const steps = state.historicalAverageSteps ?? 0;
      trainer.gAverage.restore(means.slice(0, gCount), steps);
      trainer.dAverage.restore(means.slice(gCount), steps);
    }
    const moving = trainer instanceof KPlusOneTrainer ? trainer.dMovingAverage : null;
    if (moving !== null) {
      const averages = Object.keys(map).filter((k) => k.startsWith('avg/')).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))).map((k) => map[k]);
      moving.restore(averages, state.movingAverageSteps ?? 0);
    }
  } finally {
    tf.dispose(Object.values(map));
  }
}

/** Copies the weights of the model saved in `dir` into `model`, layer by layer by name; errors name the first mismatch. */
async function copyWeights(dir: string, model: tf.LayersModel, what: string): Promise<void> {
  const saved = await loadLayersModel(dir);
  try {
    for (const layer of model.layers) {
      const mine = layer.getWeights();
      if (mine.length === 0) continue;
      const source = saved.layers.find((l) => l.name === layer.name);
      if (source === undefined) throw badInput(`${what}: ${dir}: expected a layer ${layer.name}, got layers ${saved.layers.map((l) => l.name).join(', ')}`);
      try {
        copyLayerWeights(layer, source);
      } catch (err) {
        throw badInput(`${what}: ${dir}: ${(err as Error).message}`);
      }
    }
  } finally {
    saved.dispose();
  }
}

async function loadFineTuneWeights(dir: string, spec: TrainingSpec, data: TrainingData, generator: tf.LayersModel, discriminator: tf.LayersModel): Promise<void> {
  if (!path.isAbsolute(dir)) throw badInput(`fineTuneFrom: expected an absolute folder, got ${JSON.stringify(dir)}`);
  let manifest: ModelManifest;
  try {
    manifest = readManifest(dir);
  } catch (err) {
    throw badInput(`fineTuneFrom: expected a model version folder with a valid manifest.json, got ${(err as Error).message}`);
  }
  const want = `architecture "${spec.architecture}", latentSize ${spec.latentSize}, imageShape [${data.shape}]`;
  const got = `architecture "${manifest.architecture}", latentSize ${manifest.latentSize}, imageShape [${manifest.imageShape}]`;
  if (want !== got) throw badInput(`fineTuneFrom: ${dir}: expected ${want} as in the spec, got ${got}`);
  if (manifest.discriminatorPath === undefined) throw badInput(`fineTuneFrom: ${dir}: expected a discriminatorPath in the manifest, got none`);
  await copyWeights(path.join(dir, manifest.generatorPath), generator, 'fineTuneFrom');
  await copyWeights(path.join(dir, manifest.discriminatorPath), discriminator, 'fineTuneFrom');
}

// ---- autoencoder mode -------------------------------------------------------------------------

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

/** Held-out digits in the per-epoch grid: each row of 8 originals is followed by their 8 reconstructions. */
const RECONSTRUCTION_PAIRS = SAMPLE_COUNT / 2;

/** checkpoint/state.json of an autoencoder run: written last, so a checkpoint folder with it is complete. */
interface AutoencoderCheckpointState {
  spec: TrainingSpec;
  completedEpochs: number;
  epochs: AutoencoderEpochRecord[];
  elapsedSeconds: number;
  optimizer: OptimizerRecord;
  /** tf.io weight specs of checkpoint/state.bin (Adam's iteration count and moments). */
  tensorSpecs: tf.io.WeightsManifestEntry[];
}

interface AutoencoderEpochRecord {
  /** generator: mean reconstruction MSE of the epoch's steps; discriminator: mean weighted sparsity penalty. */
  losses: Losses;
  /** Per-pixel MSE of the reconstructions of the held-out test split. */
  reconstructionError: number;
  seconds: number;
}

/**
 * Autoencoder mode of runTrainingSession: the encoder and decoder of src/models/sparse-autoencoder.ts
 * trained by AutoencoderTrainer, one checkpoint per epoch, the version folder holding the served
 * encoder (the feature network), the decoder (served as the generator: samples decode random codes),
 * the per-epoch grids of held-out reconstructions and the manifest. Events reuse the GAN fields:
 * losses.generator = reconstruction MSE, losses.discriminator = the weighted sparsity penalty,
 * dAccuracyReal = dAccuracyFake = 0 (there is no discriminator).
 */
async function runAutoencoderSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  const log = options.log ?? (() => undefined);
  if (options.fineTuneFrom !== undefined) {
    throw badInput(`fineTuneFrom: expected none in autoencoder mode (an autoencoder trains from scratch), got ${JSON.stringify(options.fineTuneFrom)}`);
  }
  const outDir = path.resolve(options.outDir);
  const checkpointDir = path.join(outDir, 'checkpoint');
  const data = await loadTrainingData(spec.dataset, 'train', { limit: spec.limit });
  const test = await loadTrainingData(spec.dataset, 'test');
  log(`${spec.dataset}: ${data.count} training images (labels unused), ${test.count} held-out test images`);
  const config = resolveSparseAutoencoderConfig({
    imageSize: data.shape[0],
    hiddenUnits: [...AUTOENCODER_SETTINGS.hiddenUnits],
    codeSize: spec.latentSize,
    inputNoise: AUTOENCODER_SETTINGS.inputNoise,
    seed: spec.seed,
  });
  const encoder = buildEncoder(config);
  const decoder = buildDecoder(config);
  let trainer: AutoencoderTrainer | undefined;
  try {
    trainer = new AutoencoderTrainer(encoder, decoder, { images: data.images, count: data.count, shape: data.shape }, {
      batchSize: spec.batchSize,
      learningRate: spec.learningRate,
      beta1: spec.beta1,
      seed: spec.seed,
      sparseLayers: sparseLayerNames(config),
      sparsityTarget: AUTOENCODER_SETTINGS.sparsityTarget,
      sparsityWeight: AUTOENCODER_SETTINGS.sparsityWeight,
    });
    let state: AutoencoderCheckpointState | undefined;
    if (options.resume) {
      state = await loadAutoencoderCheckpoint(checkpointDir, spec, trainer);
      log(`resuming after epoch ${state.completedEpochs} of ${spec.epochs}`);
    }
    const t = trainer;
    const imageSize = data.shape[0] * data.shape[1] * data.shape[2];
    const pairs = Math.min(RECONSTRUCTION_PAIRS, test.count);
    // The first held-out digits of the fixed split: the same for every run and every epoch.
    const fixed = test.images.subarray(0, pairs * imageSize);
    const grid = (): Buffer => {
      const reconstructed = t.reconstruct(fixed, pairs);
      const originals = Array.from({ length: pairs }, (_, i) => fixed.slice(i * imageSize, (i + 1) * imageSize));
      const tiles: Float32Array[] = [];
      for (let row = 0; row < pairs; row += 8) tiles.push(...originals.slice(row, row + 8), ...reconstructed.slice(row, row + 8));
      // Both datasets are grayscale 28x28.
      return gridPng(tiles, { width: data.shape[1], height: data.shape[0], channels: 1, range: [-1, 1], columns: 8 });
    };

    const records: AutoencoderEpochRecord[] = state?.epochs ?? [];
    const started = performance.now() - (state?.elapsedSeconds ?? 0) * 1000;
    await fs.mkdir(path.join(outDir, 'samples'), { recursive: true });
    if (state === undefined) await saveAutoencoderCheckpoint(checkpointDir, t, spec, records, 0);
    const stop = options.shouldStop ?? (() => false);
    // What every version written by this run shares; each adds its label, grid and finish time.
    const common = { spec, options, config, trainer: t, data, records, started };
    for (let epoch = records.length; epoch < spec.epochs; epoch++) {
      const epochStarted = performance.now();
      const stats = await t.trainEpoch(
        epoch,
        (p) => options.onStep?.({ epoch: epoch + 1, step: p.step, stepsPerEpoch: p.stepsPerEpoch, losses: { generator: p.reconstruction, discriminator: p.sparsity }, msPerStep: p.msPerStep }),
        undefined,
        stop,
      );
      if (stats.steps < t.stepsPerEpoch()) {
        log(`stopped during epoch ${epoch + 1}: keeping the checkpoint of epoch ${records.length}`);
        return { status: 'stopped', completedEpochs: records.length };
      }
      const reconstructionError = t.reconstructionError(test.images, test.count);
      const samplesPng = grid();
      const label = String(epoch + 1).padStart(3, '0');
      await writeAtomic(path.join(outDir, 'samples', `epoch-${label}.png`), samplesPng);
      const record: AutoencoderEpochRecord = { losses: { generator: stats.reconstruction, discriminator: stats.sparsity }, reconstructionError, seconds: 0 };
      records.push(record);
      record.seconds = (performance.now() - epochStarted) / 1000;
      await saveAutoencoderCheckpoint(checkpointDir, t, spec, records, (performance.now() - started) / 1000);
      record.seconds = (performance.now() - epochStarted) / 1000;
      log(
        `epoch ${epoch + 1} done: reconstruction ${stats.reconstruction.toFixed(4)} sparsity ${stats.sparsity.toFixed(4)}, ` +
          `held-out reconstruction MSE ${reconstructionError.toFixed(4)}, ${record.seconds.toFixed(1)} s, tensors ${tf.memory().numTensors}`,
      );
      await options.onEpoch?.({ epoch: epoch + 1, epochs: spec.epochs, losses: record.losses, dAccuracyReal: 0, dAccuracyFake: 0, reconstructionError, seconds: record.seconds, samplesPng });
      const keep = spec.keepEvery !== undefined && (epoch + 1) % spec.keepEvery === 0 ? options.keepDir?.(epoch + 1) : undefined;
      if (keep !== undefined) {
        const manifest = await writeAutoencoderVersion(path.resolve(keep), { ...common, version: `${options.version ?? timeLabel(new Date())}-epoch-${label}`, samplesPng });
        await options.onKeep?.(path.resolve(keep), manifest);
      }
    }
    const finishedAt = new Date();
    const manifest = await writeAutoencoderVersion(outDir, { ...common, version: options.version ?? timeLabel(finishedAt), samplesPng: grid(), finishedAt });
    await fs.rm(checkpointDir, { recursive: true, force: true });
    return { status: 'finished', dir: outDir, manifest };
  } finally {
    trainer?.dispose();
    encoder.dispose();
    decoder.dispose();
  }
}

interface AutoencoderVersionInput {
  spec: TrainingSpec;
  options: SessionOptions;
  config: SparseAutoencoderConfig;
  trainer: AutoencoderTrainer;
  data: TrainingData;
  records: AutoencoderEpochRecord[];
  version: string;
  started: number;
  samplesPng: Buffer;
  finishedAt?: Date;
}

/** The manifest's training record: what every version states about how it was made. */
function provenance(
  v: { spec: TrainingSpec; options: SessionOptions; data: TrainingData; records: readonly unknown[]; started: number },
  finalLosses: ModelManifest['training']['finalLosses'],
  finishedAt: Date,
  architectureConfig: ModelManifest['training']['architectureConfig'],
  metrics: Record<string, number>,
): ModelManifest['training'] {
  const { spec } = v;
  return {
    seed: spec.seed,
    epochs: v.records.length,
    batchSize: spec.batchSize,
    learningRate: spec.learningRate,
    beta1: spec.beta1,
    examples: v.data.count,
    command: v.options.command,
    backend: tf.getBackend(),
    finalLosses,
    durationSeconds: Math.round((performance.now() - v.started) / 1000),
    finishedAt: finishedAt.toISOString(),
    architectureConfig,
    metrics,
  };
}

/** Writes a servable autoencoder version: encoder/ (no noise layer), decoder/, samples.png, manifest.json. */
async function writeAutoencoderVersion(dir: string, v: AutoencoderVersionInput): Promise<ModelManifest> {
  const { spec, config, data, records } = v;
  await fs.mkdir(dir, { recursive: true });
  const served = encoderForServing(v.trainer.encoder, config);
  try {
    await saveLayersModel(served, path.join(dir, 'encoder'));
  } finally {
    served.dispose();
  }
  await saveLayersModel(v.trainer.decoder, path.join(dir, 'decoder'));
  await writeAtomic(path.join(dir, 'samples.png'), v.samplesPng);
  const last = records[records.length - 1];
  const finishedAt = v.finishedAt ?? new Date();
  const manifest: ModelManifest = {
    formatVersion: 1,
    name: v.options.name,
    version: v.version,
    architecture: 'autoencoder',
    dataset: spec.dataset,
    latentSize: config.codeSize,
    imageShape: data.shape,
    outputRange: [-1, 1],
    generatorPath: 'decoder',
    featureNetwork: { path: 'encoder', role: 'encoder', inputRange: [-1, 1] },
    training: provenance(
      v,
      last.losses,
      finishedAt,
      {
        mode: spec.mode,
        specArchitecture: spec.architecture,
        hiddenUnits: config.hiddenUnits.join('-'),
        codeSize: config.codeSize,
        inputNoise: config.inputNoise,
        sparsityTarget: AUTOENCODER_SETTINGS.sparsityTarget,
        sparsityWeight: AUTOENCODER_SETTINGS.sparsityWeight,
        ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      },
      { reconstructionError: last.reconstructionError },
    ),
  };
  await writeAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function saveAutoencoderCheckpoint(dir: string, trainer: AutoencoderTrainer, spec: TrainingSpec, records: AutoencoderEpochRecord[], elapsedSeconds: number): Promise<void> {
  await swapInCheckpoint(dir, async (next) => {
    await saveLayersModel(trainer.encoder, path.join(next, 'encoder'));
    await saveLayersModel(trainer.decoder, path.join(next, 'decoder'));
    const weights = await trainer.optimizer.getWeights();
    const encoded = await tf.io.encodeWeights(weights.map((w, i) => ({ name: `adam/${i}`, tensor: w.tensor })));
    // Adam's iteration scalar is a fresh tensor; its moments are live variables.
    weights[0]?.tensor.dispose();
    const state: AutoencoderCheckpointState = {
      spec,
      completedEpochs: records.length,
      epochs: records,
      elapsedSeconds,
      optimizer: {
        weights: weights.length,
        accBeta1: betaPowers(trainer.optimizer).accBeta1.dataSync()[0],
        accBeta2: betaPowers(trainer.optimizer).accBeta2.dataSync()[0],
      },
      tensorSpecs: encoded.specs,
    };
    await writeAtomic(path.join(next, 'state.bin'), Buffer.from(encoded.data));
    await writeAtomic(path.join(next, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  });
}

/** Restores the encoder, decoder and Adam state of the newest complete checkpoint; returns its state. */
async function loadAutoencoderCheckpoint(dir: string, spec: TrainingSpec, trainer: AutoencoderTrainer): Promise<AutoencoderCheckpointState> {
  const found = await findCheckpoint(dir);
  if (found === undefined) throw badInput(`resume: expected a checkpoint in ${dir} (state.json), got none`);
  const state = JSON.parse(await fs.readFile(path.join(found, 'state.json'), 'utf8')) as AutoencoderCheckpointState;
  checkResumedSpec(state.spec, state.completedEpochs, spec);
  await copyWeights(path.join(found, 'encoder'), trainer.encoder, 'resume');
  await copyWeights(path.join(found, 'decoder'), trainer.decoder, 'resume');
  const bytes = await fs.readFile(path.join(found, 'state.bin'));
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), state.tensorSpecs);
  try {
    const weights = Array.from({ length: state.optimizer.weights }, (_, i) => ({ name: `adam/${i}`, tensor: map[`adam/${i}`] }));
    if (weights.length > 0) await trainer.optimizer.setWeights(weights);
    tf.tidy(() => {
      betaPowers(trainer.optimizer).accBeta1.assign(tf.scalar(state.optimizer.accBeta1));
      betaPowers(trainer.optimizer).accBeta2.assign(tf.scalar(state.optimizer.accBeta2));
    });
  } finally {
    tf.dispose(Object.values(map));
  }
  state.epochs = state.epochs.slice(0, state.completedEpochs);
  return state;
}
