import { ArgsType, Field, Float, ID, InputType, Int } from 'type-graphql';
import { MAX_RUNS_PAGE } from '../../runs/run.store';
import type { TrainingJobState } from '../../training-jobs/training-job.state';
import {
  EVAL_SPLIT_SIZE,
  TRAINING_DEFAULTS,
  TRAINING_LIMITS,
  type FeatureMatchingBatch,
  type GeneratorLoss,
  type TrainingArchitecture,
  type TrainingMode,
} from '../../training/training-spec';
import { FeatureMatchingBatchEnum, GeneratorLossEnum, TrainingArchitectureEnum, TrainingJobStateEnum, TrainingModeEnum } from './training.type';

const range = (r: { min: number; max: number }): string => `${r.min}..${r.max}`;
const L = TRAINING_LIMITS;
const D = TRAINING_DEFAULTS;

@InputType()
export class FeatureMatchingInput {
  @Field(() => String, { description: 'A discriminator layer name; G matches its mean features on real and generated batches.' })
  layer!: string;

  @Field(() => FeatureMatchingBatchEnum, { nullable: true, description: 'KPLUSONE mode only: which real batch. Default STEP.' })
  batch?: FeatureMatchingBatch | null;
}

@InputType()
export class HistoricalAveragingInput {
  @Field(() => Float, { description: 'Weight of ||theta - running mean of theta||^2 in both losses, finite and > 0.' })
  weight!: number;
}

@InputType()
export class MinibatchDiscriminationInput {
  @Field(() => Int, { description: `Kernels of the minibatch layer in D, ${range(L.minibatchKernels)}.` })
  kernels!: number;

  @Field(() => Int, { description: `Rows of each kernel, ${range(L.minibatchKernelDim)} (5 in the paper's code).` })
  kernelDim!: number;
}

@InputType()
export class VirtualBatchNormInput {
  @Field(() => Int, { description: `Size of the reference batch of seeded latents fixed at the start, ${range(L.referenceSize)}.` })
  referenceSize!: number;
}

@InputType({ description: "Salimans et al. 2016's switches; each absent = off." })
export class TrainingTechniquesInput {
  @Field(() => Float, { nullable: true, description: "One-sided label smoothing: D's target for real images, in (0, 1] (0.9 in the paper); GAN mode only." })
  labelSmoothing?: number | null;

  @Field(() => FeatureMatchingInput, {
    nullable: true,
    description: "Feature matching on a D layer. Always on in KPLUSONE mode: the MLP defaults to its last hidden layer (the paper's), a DCGAN must name one.",
  })
  featureMatching?: FeatureMatchingInput | null;

  @Field(() => HistoricalAveragingInput, { nullable: true })
  historicalAveraging?: HistoricalAveragingInput | null;

  @Field(() => MinibatchDiscriminationInput, { nullable: true, description: 'DCGAN only.' })
  minibatchDiscrimination?: MinibatchDiscriminationInput | null;

  @Field(() => VirtualBatchNormInput, { nullable: true, description: 'In G: DCGAN, or the KPLUSONE MLP.' })
  virtualBatchNorm?: VirtualBatchNormInput | null;
}

@InputType({
  description:
    'A training job: from scratch, or fine-tuning a model version (fineTuneFrom). Out-of-range values are BAD_USER_INPUT ' +
    '(and a FAILED TRAIN run), with a message naming the field, what was expected and what came.',
})
export class StartTrainingInput {
  @Field(() => String, {
    nullable: true,
    description:
      'Model name of the versions it makes: 1..64 letters, digits, ".", "_" or "-". Default: the fine-tuned model\'s name, else "<architecture>[-kplusone|-autoencoder|-supervised]-<dataset>".',
  })
  name?: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'A model version id or alias to start from (its generator and discriminator weights); NOT_FOUND if unknown or archived. Its architecture, latent size and (DCGAN) filters are the defaults.',
  })
  fineTuneFrom?: string | null;

  @Field(() => TrainingModeEnum, { nullable: true, description: 'Default GAN.' })
  mode?: TrainingMode | null;

  @Field(() => TrainingArchitectureEnum, { nullable: true, description: "Default DCGAN (MLP in AUTOENCODER and SUPERVISED modes), or the fine-tuned model's." })
  architecture?: TrainingArchitecture | null;

  @Field(() => String, {
    nullable: true,
    description: "MNIST (default, or the fine-tuned model's) or FASHION_MNIST (needs Debian's dataset-fashion-mnist); anything else is BAD_USER_INPUT.",
  })
  dataset?: string | null;

  @Field(() => GeneratorLossEnum, { nullable: true, description: 'Default NON_SATURATING.' })
  generatorLoss?: GeneratorLoss | null;

  @Field(() => Int, { description: `Passes over the training images, ${range(L.epochs)}.` })
  epochs!: number;

  @Field(() => Int, { nullable: true, description: `Images per batch, ${range(L.batchSize)}; default ${D.batchSize}.` })
  batchSize?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: `Seed of the weights, shuffles and noise, >= 0; default ${D.seed}. A job is deterministic given it, on one backend.`,
  })
  seed?: number | null;

  @Field(() => Float, { nullable: true, description: `Adam learning rate, > 0 and <= 1; default ${D.learningRate}.` })
  learningRate?: number | null;

  @Field(() => Float, { nullable: true, description: `Adam beta1, in [0, 1); default ${D.beta1}.` })
  beta1?: number | null;

  @Field(() => Int, { nullable: true, description: `Discriminator steps per generator step, ${range(L.k)}; default ${D.k}.` })
  k?: number | null;

  @Field(() => Int, { nullable: true, description: `Length of z, ${range(L.latentSize)}; default ${D.latentSize}, or the fine-tuned model's.` })
  latentSize?: number | null;

  @Field(() => Int, { nullable: true, description: 'Use at most this many training images (the first of the fixed split), >= 1; default all.' })
  limit?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: `KPLUSONE and SUPERVISED only, and required there: labelled examples per class, ${range(L.labelsPerClass)} (10 = the paper's 100 labels).`,
  })
  labelsPerClass?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Also keep the model of every this-many epochs as a servable version, 1..epochs (the final one always is).',
  })
  keepEvery?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: `DCGAN only: filters of G and D at 14x14 (7x7 has twice as many), ${range(L.filters)}; default 32, or the fine-tuned model's.`,
  })
  filters?: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "GAN mode only: rate of an exponential moving average of G's parameters (bias corrected), updated after every G step, in (0, 1] (0.001 = decay 0.999). " +
      'The version is saved, sampled and evaluated with the averaged G, its batchnorm statistics recomputed for it. Default off.',
  })
  generatorAverage?: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "GAN mode only: compute the Inception Score and FID with the dataset's scorer every this many epochs and at the last, 1..epochs (TrainingEpoch.inceptionScore, fid). " +
      'Default off; BAD_USER_INPUT when the dataset has no scorer.',
  })
  evalEvery?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: `With evalEvery: samples of each evaluation, a multiple of ${EVAL_SPLIT_SIZE} in ${range(L.evalSamples)}, scored in Inception Score splits of ${EVAL_SPLIT_SIZE}; default ${D.evalSamples}.`,
  })
  evalSamples?: number | null;

  @Field(() => TrainingTechniquesInput, { nullable: true })
  techniques?: TrainingTechniquesInput | null;
}

@ArgsType()
export class TrainingJobsArgs {
  @Field(() => TrainingJobStateEnum, { nullable: true, description: 'Only jobs in this state.' })
  status?: TrainingJobState | null;

  @Field(() => Int, { defaultValue: 20, description: `Page size, 1..${MAX_RUNS_PAGE}.` })
  first!: number;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string | null;
}
