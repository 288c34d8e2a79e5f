/**
 * What `npm run reproduce` runs: every training and evaluation behind docs/research.md's result
 * tables, as the command lines a user would type (`npm run train -- ...`, `npm run eval -- ...`).
 * The full plan retrains what models/ ships and the table's other runs; the quick plan runs the
 * same steps on tiny settings, so CI proves the pipeline end to end in a few minutes.
 */

export type ReproduceMode = 'full' | 'quick';

/** A training run: `npm run train -- ${args} --out ${out}`. */
export interface TrainStep {
  kind: 'train';
  id: string;
  /** The train CLI's flags, without --out and --threads (the runner adds them). */
  args: string[];
  /** Version folder, relative to the project root (full plan) or the output folder (quick plan). */
  out: string;
  /** A model of models/: its manifest is what the tables cite. */
  shipped: boolean;
}

/** An evaluation: `npm run eval -- ${args} --json`, after the training `after` when it scores a model. */
export interface EvalStep {
  kind: 'eval';
  id: string;
  /** The eval CLI's flags without --json; a model is named by the train step's out via `after`. */
  args: string[];
  after?: string;
  /** With a model: where its samples beside their nearest training images go (`--nearest`), relative like a train step's out. */
  figure?: string;
}

export type Step = TrainStep | EvalStep;

/** Label counts of Salimans et al.'s Table 1, as labelled examples per class (10 classes). */
export const LABELS_PER_CLASS = [2, 5, 10, 20] as const;
/** The label seeds of each cell: which examples are labelled, and every other seed of the run. */
export const LABEL_SEEDS = [1, 2, 3] as const;

/** Salimans et al. 2016, Table 1: errors on the 10,000 MNIST test digits (mean ± std over 10 label seeds), as percentages. */
export const PAPER_KPLUSONE_MNIST: Readonly<Record<number, { mean: number; std: number }>> = {
  2: { mean: 16.77, std: 4.52 },
  5: { mean: 2.21, std: 1.36 },
  10: { mean: 0.93, std: 0.065 },
  20: { mean: 0.9, std: 0.042 },
};

/** Goodfellow et al. 2014, Table 1: the MNIST GAN's Parzen-window log-likelihood, nats. */
export const PAPER_PARZEN_MNIST = { mean: 225, stdErr: 2 };

/** Sizes that differ between the two plans; everything else is the same command. */
interface Sizes {
  kplusoneEpochs: number;
  fashionKplusoneEpochs: number;
  /** DCGAN epochs per dataset: the same number of steps (about 14,000 of 64 images) on 9,000 digits and on 60,000 clothes. */
  dcganEpochs: Readonly<Record<'mnist' | 'fashion-mnist', number>>;
  /** DCGAN training flags that score it while it trains (full plan only: IS and FID on 2,000 samples, about every 400-900 steps). */
  dcganEval: Readonly<Record<'mnist' | 'fashion-mnist', readonly string[]>>;
  mlpGanEpochs: number;
  /** --limit on training images (quick plan only). */
  limit?: number;
  evalSamples: number;
  evalSplits: number;
  labelsPerClass: readonly number[];
  seeds: readonly number[];
  fashionSeeds: readonly number[];
}

const FULL: Sizes = {
  // The released code's 300 epochs (an epoch = one pass over the unlabelled images).
  kplusoneEpochs: 300,
  // 600 steps an epoch on the 60,000 Fashion-MNIST images: 30 epochs are 18,000 steps.
  fashionKplusoneEpochs: 30,
  dcganEpochs: { mnist: 100, 'fashion-mnist': 15 },
  dcganEval: { mnist: ['--eval-every', '3', '--eval-samples', '2000'], 'fashion-mnist': ['--eval-every', '1', '--eval-samples', '2000'] },
  mlpGanEpochs: 100,
  evalSamples: 10_000,
  evalSplits: 10,
  labelsPerClass: LABELS_PER_CLASS,
  seeds: LABEL_SEEDS,
  fashionSeeds: LABEL_SEEDS,
};

const QUICK: Sizes = {
  kplusoneEpochs: 1,
  fashionKplusoneEpochs: 1,
  dcganEpochs: { mnist: 1, 'fashion-mnist': 1 },
  dcganEval: { mnist: [], 'fashion-mnist': [] },
  mlpGanEpochs: 1,
  limit: 200,
  evalSamples: 200,
  evalSplits: 2,
  labelsPerClass: [10],
  seeds: [1, 2],
  fashionSeeds: [1],
};

/**
 * The K+1 settings of the released code for MNIST (docs/research.md, "Semi-supervised K+1 classification"),
 * G's feature matching on a real batch of its own as there (with the D step's batch, label seed 3's generator lost).
 */
const KPLUSONE = [
  ...['--model', 'mlp', '--feature-matching', 'd_hidden5', '--feature-matching-batch', 'separate'],
  ...['--batch-size', '100', '--lr', '0.003', '--beta1', '0.5'],
];
/** The supervised-only baseline: the same D and optimiser on the labelled images alone (an epoch is K+1's updates, on K+1's labelled batches). */
const SUPERVISED = ['--model', 'mlp', '--batch-size', '100', '--lr', '0.003', '--beta1', '0.5'];

export function kplusoneId(method: 'kplusone' | 'supervised', dataset: string, labelsPerClass: number, seed: number): string {
  return `${method}-${dataset}-l${labelsPerClass}-s${seed}`;
}

/** The steps of a plan, in an order where each eval comes after the training it scores. */
export function planSteps(mode: ReproduceMode): Step[] {
  const s = mode === 'full' ? FULL : QUICK;
  const limit = s.limit !== undefined ? ['--limit', String(s.limit)] : [];
  const runs = (id: string): string => (mode === 'full' ? `runs/reproduce/${id}` : `runs/${id}`);
  const shippedOut = (name: string): string => `models/${name}`;
  // Beside docs/research.md in the full plan (its figures/ folder), in the output folder's figures/ in the quick one.
  const nearestFigure = (model: string): string => `${mode === 'full' ? 'docs/' : ''}figures/${model}-nearest.png`;
  const steps: Step[] = [];
  const evalArgs = (metrics: string): string[] => ['--metrics', metrics, '--samples', String(s.evalSamples), '--splits', String(s.evalSplits), '--seed', '0'];

  // Salimans et al. Table 1 on MNIST: K+1 and the supervised baseline per label count and seed.
  // The 100-label, seed-1 K+1 run is the shipped mnist-kplusone.
  for (const perClass of s.labelsPerClass) {
    for (const seed of s.seeds) {
      const shipped = perClass === 10 && seed === 1;
      const common = ['--dataset', 'mnist', '--labels-per-class', String(perClass), '--seed', String(seed), ...limit];
      const k = kplusoneId('kplusone', 'mnist', perClass, seed);
      steps.push({
        kind: 'train',
        id: k,
        args: ['--mode', 'kplusone', ...common, '--epochs', String(s.kplusoneEpochs), ...KPLUSONE],
        out: shipped ? shippedOut('mnist-kplusone') : runs(k),
        shipped,
      });
      const b = kplusoneId('supervised', 'mnist', perClass, seed);
      steps.push({
        kind: 'train',
        id: b,
        args: ['--mode', 'supervised', ...common, '--epochs', String(s.kplusoneEpochs), ...SUPERVISED],
        out: runs(b),
        shipped: false,
      });
    }
  }
  // The same at 100 labels on Fashion-MNIST.
  for (const seed of s.fashionSeeds) {
    const common = ['--dataset', 'fashion-mnist', '--labels-per-class', '10', '--seed', String(seed), ...limit, '--epochs', String(s.fashionKplusoneEpochs)];
    const k = kplusoneId('kplusone', 'fashion-mnist', 10, seed);
    steps.push({ kind: 'train', id: k, args: ['--mode', 'kplusone', ...common, ...KPLUSONE], out: runs(k), shipped: false });
    const b = kplusoneId('supervised', 'fashion-mnist', 10, seed);
    steps.push({ kind: 'train', id: b, args: ['--mode', 'supervised', ...common, ...SUPERVISED], out: runs(b), shipped: false });
  }
  // Radford et al.'s DCGAN on digits and on clothes, scored with the mnist-cnn / fashion-mnist-cnn scorers.
  // 64 filters in the first layer (G and D) and a moving average of G's weights (the served generator).
  for (const dataset of ['mnist', 'fashion-mnist'] as const) {
    const id = `dcgan-${dataset}`;
    steps.push({
      kind: 'train',
      id,
      args: [
        ...['--model', 'dcgan', '--dataset', dataset, '--epochs', String(s.dcganEpochs[dataset]), '--batch-size', '64', '--seed', '42'],
        ...['--filters', '64', '--generator-average', '0.001', ...s.dcganEval[dataset], ...limit],
      ],
      out: shippedOut(id),
      shipped: true,
    });
    steps.push({
      kind: 'eval',
      id: `eval-${id}`,
      args: evalArgs(dataset === 'mnist' ? 'is,fid,kid,parzen' : mode === 'full' ? 'is,fid,kid' : 'is'),
      after: id,
      figure: nearestFigure(id),
    });
  }
  // Goodfellow et al.'s maxout MLP GAN, for the Parzen-window protocol.
  steps.push({
    kind: 'train',
    id: 'mnist-mlp-gan',
    args: ['--model', 'mlp', '--dataset', 'mnist', '--epochs', String(s.mlpGanEpochs), '--batch-size', '100', '--seed', '42', ...limit],
    out: shippedOut('mnist-mlp-gan'),
    shipped: true,
  });
  steps.push({ kind: 'eval', id: 'eval-mnist-mlp-gan', args: evalArgs('is,fid,kid,parzen'), after: 'mnist-mlp-gan', figure: nearestFigure('mnist-mlp-gan') });
  // The references: real held-out images (the Parzen windows then on training images) and uniform noise.
  steps.push({ kind: 'eval', id: 'eval-real-mnist', args: ['--real', '--dataset', 'mnist', ...evalArgs('is,fid,kid,parzen')] });
  // Quick: the Inception Score only on clothes, as FID would first score all 60,000 training images.
  const fashionMetrics = mode === 'full' ? 'is,fid,kid' : 'is';
  steps.push({ kind: 'eval', id: 'eval-real-fashion-mnist', args: ['--real', '--dataset', 'fashion-mnist', ...evalArgs(fashionMetrics)] });
  steps.push({ kind: 'eval', id: 'eval-noise-mnist', args: ['--noise', '--dataset', 'mnist', ...evalArgs('is,fid,kid,parzen')] });
  return steps;
}
