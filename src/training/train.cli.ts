import * as path from 'node:path';
import { initBackend } from '../backend/backend';
import { defaultTrainingThreads } from '../config/config';
import { commandLineOf, parseFlags, type Flags } from '../cli/flags';
import { formatSeconds, progressBar } from '../log/progress-bar';
import type { ModelManifest } from '../models/manifest';
import { DEFAULT_SCORERS_DIR } from './session-options';
import { runTrainingSession } from './training-session';
import { checkTrainingSpec, type FeatureMatchingBatch, type TrainingSpec, type TrainingSpecInput, type TrainingTechniques } from './training-spec';

/** Validated command line of `npm run train`: a checked spec and where the session writes. */
export interface TrainArgs {
  spec: TrainingSpec;
  /** The version folder (checkpoint/ inside it while training). */
  out: string;
  /** manifest.name; the folder's base name by default. */
  name: string;
  /** Continue from out/checkpoint after the last completed epoch. */
  resume: boolean;
  /** Absolute folder of a model version to start from. */
  fineTuneFrom?: string;
  /** Threads of the native kernels per call; 0 trains on wasm's kernels alone. */
  threads: number;
  /** Where --eval-every finds the dataset's scorer. */
  scorersDir: string;
}

const USAGE =
  'usage: npm run train -- --epochs N --out DIR [--mode gan|kplusone|autoencoder|supervised] [--model dcgan|mlp (autoencoder, supervised: mlp)] ' +
  '[--dataset mnist|fashion-mnist] [--labels-per-class N (kplusone, supervised)] [--loss non-saturating|minimax] [--batch-size 64] [--seed 42] [--lr 0.0002] [--beta1 0.5] [--k 1] ' +
  '[--latent-size 100 (autoencoder: the code size)] [--limit N] [--keep-every N] [--name NAME] [--resume] [--fine-tune-from DIR] [--threads N (0: wasm only)] ' +
  '[--label-smoothing 0.9] [--feature-matching LAYER (required in kplusone mode)] [--feature-matching-batch step|separate (kplusone)] [--historical-averaging WEIGHT] ' +
  '[--minibatch-kernels B [--minibatch-kernel-dim 5]] [--virtual-batch-norm R] [--filters 32 (dcgan: 8..128)] [--generator-average RATE (e.g. 0.001)] ' +
  '[--eval-every N [--eval-samples 2000 (a multiple of 1000)] [--scorers-dir models/scorers]]\n' +
  "--eval-every: IS and FID every N epochs and at the last, with the dataset's scorer, on --eval-samples samples in splits of 1,000 " +
  '(the figures to compare across versions, on 10,000 samples, come from npm run eval)';

/** Kernel rows of minibatch discrimination when only --minibatch-kernels is given; 5 as in the paper's code. */
const DEFAULT_MINIBATCH_KERNEL_DIM = 5;

/** A number flag as written, or undefined when absent; its range is checkTrainingSpec's to judge. */
function numberFlag(args: Flags, name: string): number | undefined {
  const text = args.get(name);
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new Error(`--${name}: expected a number, got ${JSON.stringify(text)}`);
  return v;
}

function stringFlag(args: Flags, name: string): string | undefined {
  const text = args.get(name);
  if (text !== undefined && text.trim() === '') throw new Error(`--${name}: expected a value, got ""`);
  return text;
}

/** Parses argv into a spec input and checks it with checkTrainingSpec (the GraphQL mutation's checks). */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const args = parseFlags(argv, {
    options: [
      'mode',
      'model',
      'dataset',
      'labels-per-class',
      'loss',
      'epochs',
      'batch-size',
      'seed',
      'out',
      'name',
      'lr',
      'beta1',
      'k',
      'latent-size',
      'limit',
      'keep-every',
      'fine-tune-from',
      'label-smoothing',
      'feature-matching',
      'feature-matching-batch',
      'historical-averaging',
      'minibatch-kernels',
      'minibatch-kernel-dim',
      'virtual-batch-norm',
      'threads',
      'filters',
      'generator-average',
      'eval-every',
      'eval-samples',
      'scorers-dir',
    ],
    flags: ['resume'],
    usage: USAGE,
    example: 'epochs',
  });
  const out = args.required('out');
  if (out.trim() === '') throw new Error(`--out: expected a folder, got ""`);
  if (args.has('minibatch-kernel-dim') && !args.has('minibatch-kernels')) {
    throw new Error(`--minibatch-kernel-dim: expected --minibatch-kernels with it, got none\n${USAGE}`);
  }
  const techniques: TrainingTechniques = {};
  const smoothing = numberFlag(args, 'label-smoothing');
  if (smoothing !== undefined) techniques.labelSmoothing = smoothing;
  const layer = args.get('feature-matching');
  if (layer !== undefined) {
    if (layer.trim() === '') throw new Error(`--feature-matching: expected a discriminator layer name, got ""`);
    const batch = args.get('feature-matching-batch');
    // checkTrainingSpec says what it expected of the value.
    techniques.featureMatching = batch === undefined ? { layer } : { layer, batch: batch as FeatureMatchingBatch };
  } else if (args.has('feature-matching-batch')) {
    throw new Error(`--feature-matching-batch: expected --feature-matching with it, got none\n${USAGE}`);
  }
  const haWeight = numberFlag(args, 'historical-averaging');
  if (haWeight !== undefined) techniques.historicalAveraging = { weight: haWeight };
  const kernels = numberFlag(args, 'minibatch-kernels');
  if (kernels !== undefined)
    techniques.minibatchDiscrimination = { kernels, kernelDim: numberFlag(args, 'minibatch-kernel-dim') ?? DEFAULT_MINIBATCH_KERNEL_DIM };
  const referenceSize = numberFlag(args, 'virtual-batch-norm');
  if (referenceSize !== undefined) techniques.virtualBatchNorm = { referenceSize };
  // The flags' own names stay as the spec's types; checkTrainingSpec says what it expected.
  const input = {
    mode: stringFlag(args, 'mode'),
    architecture: stringFlag(args, 'model'),
    dataset: stringFlag(args, 'dataset'),
    generatorLoss: stringFlag(args, 'loss'),
    labelsPerClass: numberFlag(args, 'labels-per-class'),
    epochs: numberFlag(args, 'epochs'),
    batchSize: numberFlag(args, 'batch-size'),
    seed: numberFlag(args, 'seed'),
    learningRate: numberFlag(args, 'lr'),
    beta1: numberFlag(args, 'beta1'),
    k: numberFlag(args, 'k'),
    latentSize: numberFlag(args, 'latent-size'),
    limit: numberFlag(args, 'limit'),
    keepEvery: numberFlag(args, 'keep-every'),
    filters: numberFlag(args, 'filters'),
    generatorAverage: numberFlag(args, 'generator-average'),
    evalEvery: numberFlag(args, 'eval-every'),
    evalSamples: numberFlag(args, 'eval-samples'),
    techniques,
  } as TrainingSpecInput;
  for (const key of Object.keys(input) as (keyof TrainingSpecInput)[]) if (input[key] === undefined) delete input[key];
  const spec = checkTrainingSpec(input);
  const threads = numberFlag(args, 'threads') ?? defaultTrainingThreads();
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new Error(`--threads: expected an integer in 0..64, got ${threads}`);
  const scorersDir = stringFlag(args, 'scorers-dir');
  if (scorersDir !== undefined && spec.evalEvery === undefined)
    throw new Error('--scorers-dir: expected --eval-every with it (the scorer is for the per-epoch evaluation), got none');
  const fineTune = stringFlag(args, 'fine-tune-from');
  if (fineTune !== undefined && args.has('resume'))
    throw new Error('--fine-tune-from: expected it without --resume (a resumed run continues its own checkpoint), got both');
  return {
    spec,
    out,
    name: stringFlag(args, 'name') ?? path.basename(path.resolve(out)),
    resume: args.has('resume'),
    threads,
    scorersDir: scorersDir ?? DEFAULT_SCORERS_DIR,
    ...(fineTune !== undefined ? { fineTuneFrom: path.resolve(fineTune) } : {}),
  };
}

/** A step's losses as the mode names them (autoencoder: reconstruction MSE and sparsity penalty in the G and D slots; supervised: the classifier's cross-entropy in D's). */
function lossText(spec: TrainingSpec, losses: { generator: number; discriminator: number }): string {
  if (spec.mode === 'autoencoder') return `reconstruction ${losses.generator.toFixed(4)} sparsity ${losses.discriminator.toFixed(4)}`;
  if (spec.mode === 'supervised') return `cross-entropy ${losses.discriminator.toFixed(4)}`;
  return `D ${losses.discriminator.toFixed(3)} G ${losses.generator.toFixed(3)}`;
}

/**
 * The command line as a user would retype it to make the same version: without --resume, since a
 * resumed run restores its checkpoint exactly and ends where the uninterrupted run would.
 */
export function commandLine(argv: readonly string[]): string {
  return commandLineOf(
    ['npm', 'run', 'train', '--'],
    argv.filter((a) => a !== '--resume'),
  );
}

/**
 * `npm run train`: a thin wrapper over runTrainingSession with a progress bar; SIGINT/SIGTERM stop
 * after the current step at the last checkpoint (rerun with --resume).
 */
export async function runTraining(argv: readonly string[], log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<ModelManifest> {
  const args = parseTrainArgs(argv);
  await initBackend({ log, ...(args.threads > 0 ? { nativeThreads: args.threads } : {}) });
  let stopRequested = false;
  const onSignal = (): void => {
    log('\nstop requested: finishing the current step');
    stopRequested = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { spec } = args;
  const runStarted = performance.now();
  let runSteps = 0;
  try {
    const result = await runTrainingSession(spec, {
      outDir: args.out,
      name: args.name,
      command: commandLine(argv),
      resume: args.resume,
      scorersDir: args.scorersDir,
      ...(args.fineTuneFrom !== undefined ? { fineTuneFrom: args.fineTuneFrom } : {}),
      keepDir: (epoch) => path.join(path.resolve(args.out), 'keep', `epoch-${String(epoch).padStart(3, '0')}`),
      shouldStop: () => stopRequested,
      log,
      onStep: (p) => {
        runSteps++;
        const sPerStep = (performance.now() - runStarted) / 1000 / runSteps;
        const eta = sPerStep * ((spec.epochs - p.epoch) * p.stepsPerEpoch + (p.stepsPerEpoch - p.step));
        const tty = process.stderr.isTTY;
        process.stderr.write(
          `${tty ? '\r' : ''}epoch ${p.epoch}/${spec.epochs} ${progressBar(p.step, p.stepsPerEpoch)} step ${p.step}/${p.stepsPerEpoch} ` +
            `${lossText(spec, p.losses)} ` +
            `${(p.msPerStep / 1000).toFixed(2)} s/step ${p.imagesPerSecond.toFixed(0)} images/s ETA ${formatSeconds(eta)}${tty ? (p.step === p.stepsPerEpoch ? '\n' : '') : '\n'}`,
        );
      },
      onKeep: (dir) => log(`kept ${dir}`),
    });
    if (result.status === 'stopped') {
      throw new Error(`training stopped after ${result.completedEpochs} complete epochs; rerun with --resume to continue`);
    }
    log(`done in ${formatSeconds(result.manifest.training.durationSeconds)}: ${path.join(result.dir, 'manifest.json')}`);
    return result.manifest;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
