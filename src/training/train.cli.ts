import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/backend';
import { loadMnist } from '../data/mnist';
import { gridPng } from '../images/grid';
import { buildDiscriminator, buildGenerator, resolveDcganConfig, type DcganConfig } from '../models/dcgan';
import { loadLayersModel, saveLayersModel } from '../models/io';
import type { ModelManifest } from '../models/manifest';
import { DcganTrainer, resolveTrainerOptions, seededNoise, type DcganTrainerOptions, type Losses } from './dcgan-trainer';
import { formatSeconds, progressBar } from '../log/progress-bar';
import { commandLineOf, parseFlags } from '../cli/flags';

/** Validated command line of `npm run train`. */
export interface TrainArgs {
  model: 'dcgan';
  dataset: 'mnist';
  epochs: number;
  batchSize: number;
  seed: number;
  out: string;
  learningRate: number;
  beta1: number;
  k: number;
  latentSize: number;
  /** Use at most this many training images. */
  limit?: number;
  /** Continue from out/checkpoint after the last completed epoch. */
  resume: boolean;
  /** Salimans et al. 2016's switches; absent = off (see DcganTrainerOptions). */
  labelSmoothing?: number;
  featureMatching?: { layer: string };
  historicalAveraging?: { weight: number };
  minibatchDiscrimination?: { kernels: number; kernelDim: number };
}

const USAGE =
  'usage: npm run train -- --model dcgan --dataset mnist --epochs N --batch-size B --seed S --out DIR ' +
  '[--lr 0.0002] [--beta1 0.5] [--k 1] [--latent-size 100] [--limit N] [--resume] ' +
  '[--label-smoothing 0.9] [--feature-matching LAYER] [--historical-averaging WEIGHT] [--minibatch-kernels B [--minibatch-kernel-dim 5]]';

/** Kernel rows of minibatch discrimination when only --minibatch-kernels is given; 5 as in the paper's code. */
const DEFAULT_MINIBATCH_KERNEL_DIM = 5;

const SAMPLE_COUNT = 64;
/** The fixed noise of the sample grids is seeded apart from the training noise. */
const SAMPLE_NOISE_SALT = 1_000_003;

export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const args = parseFlags(argv, {
    options: [
      'model', 'dataset', 'epochs', 'batch-size', 'seed', 'out', 'lr', 'beta1', 'k', 'latent-size', 'limit',
      'label-smoothing', 'feature-matching', 'historical-averaging', 'minibatch-kernels', 'minibatch-kernel-dim',
    ],
    flags: ['resume'],
    usage: USAGE,
    example: 'epochs',
  });
  const model = args.required('model');
  if (model !== 'dcgan') throw new Error(`--model: expected "dcgan", got ${JSON.stringify(model)}`);
  const dataset = args.required('dataset');
  if (dataset !== 'mnist') throw new Error(`--dataset: expected "mnist", got ${JSON.stringify(dataset)}`);
  const out = args.required('out');
  if (out.trim() === '') throw new Error(`--out: expected a folder, got ""`);
  const fmLayer = args.get('feature-matching');
  if (fmLayer !== undefined && fmLayer.trim() === '') throw new Error(`--feature-matching: expected a discriminator layer name, got ""`);
  if (args.has('minibatch-kernel-dim') && !args.has('minibatch-kernels')) {
    throw new Error(`--minibatch-kernel-dim: expected --minibatch-kernels with it, got none\n${USAGE}`);
  }
  return {
    model,
    dataset,
    epochs: args.int('epochs', 1),
    batchSize: args.int('batch-size', 1),
    seed: args.int('seed', 0),
    out,
    learningRate: args.real('lr', 0, 1, 0.0002),
    beta1: args.real('beta1', 0, 1, 0.5, true),
    k: args.int('k', 1, { fallback: 1 }),
    latentSize: args.int('latent-size', 1, { fallback: 100 }),
    limit: args.has('limit') ? args.int('limit', 1) : undefined,
    resume: args.has('resume'),
    labelSmoothing: args.has('label-smoothing') ? args.real('label-smoothing', 0, 1, 1) : undefined,
    featureMatching: fmLayer !== undefined ? { layer: fmLayer } : undefined,
    historicalAveraging: args.has('historical-averaging') ? { weight: args.real('historical-averaging', 0, Infinity, 0) } : undefined,
    minibatchDiscrimination: args.has('minibatch-kernels')
      ? { kernels: args.int('minibatch-kernels', 1), kernelDim: args.int('minibatch-kernel-dim', 1, { fallback: DEFAULT_MINIBATCH_KERNEL_DIM }) }
      : undefined,
  };
}

/** The switches that are on, flattened for the manifest's architectureConfig (absent = off). */
export function techniqueRecord(args: TrainArgs): Record<string, number | string> {
  const record: Record<string, number | string> = {};
  if (args.labelSmoothing !== undefined) record.labelSmoothing = args.labelSmoothing;
  if (args.featureMatching !== undefined) record.featureMatchingLayer = args.featureMatching.layer;
  if (args.historicalAveraging !== undefined) record.historicalAveragingWeight = args.historicalAveraging.weight;
  if (args.minibatchDiscrimination !== undefined) {
    record.minibatchKernels = args.minibatchDiscrimination.kernels;
    record.minibatchKernelDim = args.minibatchDiscrimination.kernelDim;
  }
  return record;
}

/** The command line as a user would retype it. */
export function commandLine(argv: readonly string[]): string {
  return commandLineOf(['npm', 'run', 'train', '--'], argv);
}

interface CheckpointState {
  completedEpochs: number;
  epochLosses: Losses[];
  elapsedSeconds: number;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await fs.rename(tmp, file);
}

export async function runTraining(argv: readonly string[], log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<ModelManifest> {
  const args = parseTrainArgs(argv);
  const backend = await initBackend({ log });
  const trainerOptions: DcganTrainerOptions = resolveTrainerOptions({
    batchSize: args.batchSize,
    learningRate: args.learningRate,
    beta1: args.beta1,
    k: args.k,
    seed: args.seed,
    labelSmoothing: args.labelSmoothing,
    featureMatching: args.featureMatching,
    historicalAveraging: args.historicalAveraging,
    minibatchDiscrimination: args.minibatchDiscrimination,
  });
  const dcganConfig: DcganConfig = resolveDcganConfig({ latentSize: args.latentSize, seed: args.seed });
  // The split seed is fixed, not --seed, so the held-out test digits are the same for every run.
  const data = loadMnist({ split: 'train', seed: 0, limit: args.limit });
  log(`mnist: ${data.count} training digits`);

  const out = path.resolve(args.out);
  const checkpointDir = path.join(out, 'checkpoint');
  await fs.mkdir(path.join(out, 'samples'), { recursive: true });

  let generator = buildGenerator(dcganConfig);
  let discriminator = buildDiscriminator(dcganConfig, { minibatchDiscrimination: args.minibatchDiscrimination });
  let state: CheckpointState = { completedEpochs: 0, epochLosses: [], elapsedSeconds: 0 };
  if (args.resume) {
    state = JSON.parse(await fs.readFile(path.join(checkpointDir, 'state.json'), 'utf8')) as CheckpointState;
    generator.dispose();
    discriminator.dispose();
    generator = await loadLayersModel(path.join(checkpointDir, 'generator'));
    discriminator = await loadLayersModel(path.join(checkpointDir, 'discriminator'));
    log(`resuming after epoch ${state.completedEpochs} (optimizer moments restart from zero)`);
  }

  const trainer = new DcganTrainer(generator, discriminator, { images: data.images, count: data.count, shape: [28, 28, 1] }, trainerOptions);
  const fixedNoise = seededNoise(SAMPLE_COUNT, dcganConfig.latentSize, args.seed + SAMPLE_NOISE_SALT);
  const grid = (): Buffer =>
    gridPng(trainer.generate(fixedNoise, SAMPLE_COUNT), { width: 28, height: 28, channels: 1, range: [-1, 1], columns: 8 });

  const onSignal = (): void => {
    log('\nstop requested: finishing the current step');
    trainer.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const steps = trainer.stepsPerEpoch();
  const totalSteps = steps * args.epochs;
  const started = performance.now() - state.elapsedSeconds * 1000;
  let stepsDone = steps * state.completedEpochs;
  const runStarted = performance.now();
  let runSteps = 0;
  let stopped = false;
  for (let epoch = state.completedEpochs; epoch < args.epochs; epoch++) {
    const losses = await trainer.trainEpoch(epoch, (p) => {
      stepsDone++;
      runSteps++;
      const sPerStep = (performance.now() - runStarted) / 1000 / runSteps;
      const eta = sPerStep * (totalSteps - stepsDone);
      if (process.stderr.isTTY) process.stderr.write('\r');
      process.stderr.write(
        `epoch ${epoch + 1}/${args.epochs} ${progressBar(p.step, p.stepsPerEpoch)} step ${p.step}/${p.stepsPerEpoch} ` +
          `D ${p.losses.discriminator.toFixed(3)} G ${p.losses.generator.toFixed(3)} ` +
          `${(p.msPerStep / 1000).toFixed(2)} s/step ETA ${formatSeconds(eta)}${process.stderr.isTTY ? '' : '\n'}`,
      );
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (stepsDone < steps * (epoch + 1)) {
      stopped = true;
      break;
    }
    state = {
      completedEpochs: epoch + 1,
      epochLosses: [...state.epochLosses, losses],
      elapsedSeconds: (performance.now() - started) / 1000,
    };
    const label = String(epoch + 1).padStart(3, '0');
    await fs.writeFile(path.join(out, 'samples', `epoch-${label}.png`), grid());
    await saveLayersModel(generator, path.join(checkpointDir, 'generator'));
    await saveLayersModel(discriminator, path.join(checkpointDir, 'discriminator'));
    await writeJson(path.join(checkpointDir, 'state.json'), state);
    log(
      `epoch ${epoch + 1} done: mean D ${losses.discriminator.toFixed(4)} G ${losses.generator.toFixed(4)}, ` +
        `samples/epoch-${label}.png, checkpoint saved, tensors ${tf.memory().numTensors}`,
    );
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (stopped) {
    trainer.dispose();
    throw new Error(`training stopped after ${state.completedEpochs} complete epochs; rerun with --resume to continue`);
  }

  const durationSeconds = (performance.now() - started) / 1000;
  await saveLayersModel(generator, path.join(out, 'generator'));
  await saveLayersModel(discriminator, path.join(out, 'discriminator'));
  await fs.writeFile(path.join(out, 'samples.png'), grid());
  const final = state.epochLosses[state.epochLosses.length - 1];
  const finishedAt = new Date();
  const manifest: ModelManifest = {
    formatVersion: 1,
    name: path.basename(out),
    version: finishedAt.toISOString().slice(0, 16).replace(':', '-'),
    architecture: args.model,
    dataset: args.dataset,
    latentSize: dcganConfig.latentSize,
    imageShape: [28, 28, 1],
    outputRange: [-1, 1],
    generatorPath: 'generator',
    discriminatorPath: 'discriminator',
    training: {
      seed: args.seed,
      epochs: args.epochs,
      batchSize: args.batchSize,
      learningRate: args.learningRate,
      beta1: args.beta1,
      examples: data.count,
      command: commandLine(argv),
      backend: backend.name,
      finalLosses: { generator: final.generator, discriminator: final.discriminator },
      durationSeconds: Math.round(durationSeconds),
      finishedAt: finishedAt.toISOString(),
      architectureConfig: { ...dcganConfig, k: args.k, ...techniqueRecord(args) },
    },
  };
  await writeJson(path.join(out, 'manifest.json'), manifest);
  // The final models equal the last checkpoint; keep the shipped folder small.
  await fs.rm(checkpointDir, { recursive: true, force: true });
  trainer.dispose();
  log(`done in ${formatSeconds(durationSeconds)}: ${path.join(out, 'manifest.json')}`);
  return manifest;
}

if (require.main === module && (process.argv.includes('--help') || process.argv.includes('-h'))) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

if (require.main === module) {
  runTraining(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`train: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
