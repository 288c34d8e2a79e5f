// Over 300 lines: every GraphQL type of training (the spec and its techniques, jobs, epochs, steps,
// progress events) is here, since they nest in one another and share the enums registered at the top.
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { TRAINING_JOB_STATES, type TrainingJobState } from '../../training-jobs/training-job.state';
import type { FeatureMatchingBatch, GeneratorLoss, TrainingArchitecture, TrainingMode } from '../../training/training-spec';
import { Image } from '../common/image.type';
import { PageInfo } from '../runs/run.type';

// type-graphql maps each GraphQL enum name to the value after it: the resolvers see the spec's own strings.
export const TrainingModeEnum = { GAN: 'gan', KPLUSONE: 'kplusone', AUTOENCODER: 'autoencoder', SUPERVISED: 'supervised' } as const satisfies Record<
  string,
  TrainingMode
>;
export const TrainingArchitectureEnum = { DCGAN: 'dcgan', MLP: 'mlp' } as const satisfies Record<string, TrainingArchitecture>;
export const GeneratorLossEnum = { NON_SATURATING: 'non-saturating', MINIMAX: 'minimax' } as const satisfies Record<string, GeneratorLoss>;
export const FeatureMatchingBatchEnum = { STEP: 'step', SEPARATE: 'separate' } as const satisfies Record<string, FeatureMatchingBatch>;
export const TrainingJobStateEnum = Object.fromEntries(TRAINING_JOB_STATES.map((s) => [s, s])) as { [S in TrainingJobState]: S };
export const TrainingEventTypeEnum = { STATE: 'STATE', STEP: 'STEP', EPOCH: 'EPOCH', END: 'END' } as const;
export type TrainingEventType = keyof typeof TrainingEventTypeEnum;

registerEnumType(FeatureMatchingBatchEnum, {
  name: 'FeatureMatchingBatch',
  description: 'KPLUSONE mode: the real images whose mean features G matches.',
  valuesConfig: {
    STEP: { description: 'The unlabelled batch of the discriminator step just taken.' },
    SEPARATE: { description: "A batch of its own, from a second shuffle of the training images each epoch, as Salimans et al.'s released MNIST code." },
  },
});

registerEnumType(TrainingModeEnum, {
  name: 'TrainingMode',
  valuesConfig: {
    GAN: { description: 'G against a real/fake discriminator (Goodfellow et al. 2014).' },
    KPLUSONE: {
      description:
        'Semi-supervised: a K+1-class discriminator trained on labelsPerClass labels per class, G by feature matching (Salimans et al. 2016, sec. 5); the version serves classify.',
    },
    AUTOENCODER: {
      description:
        'Unsupervised feature learning of the Le et al. 2012 kind: a sparse denoising autoencoder (architecture MLP only) on the unlabelled images, latentSize = its code size. ' +
        'The version serves its decoder as the generator and its encoder as the feature network. k, generatorLoss, labelsPerClass, techniques and fineTuneFrom are BAD_USER_INPUT. ' +
        'EPOCH events: generatorLoss = reconstruction MSE, discriminatorLoss = the sparsity penalty, dAccuracyReal = dAccuracyFake = 0.',
    },
    SUPERVISED: {
      description:
        'The supervised-only baseline of KPLUSONE (Salimans et al. 2016, Table 1): the same discriminator (architecture MLP only), optimiser and labelled examples ' +
        '(labelsPerClass, required), trained on the labelled examples alone by cross-entropy, floor(labels / batchSize) updates an epoch, no generator. ' +
        'The version serves classify and the feature analyses; it has no generator (Model.latentSize is null), so samples and the other generating operations refuse it. ' +
        'k, generatorLoss, latentSize, techniques, architecture DCGAN and fineTuneFrom are BAD_USER_INPUT. ' +
        'EPOCH events: discriminatorLoss = the cross-entropy, generatorLoss = dAccuracyReal = dAccuracyFake = 0, testError as in KPLUSONE, samples = the first 64 held-out images with those the classifier gets wrong in red.',
    },
  },
});
registerEnumType(TrainingArchitectureEnum, {
  name: 'TrainingArchitecture',
  valuesConfig: {
    DCGAN: { description: 'Radford et al. 2015: strided convolutions, batchnorm.' },
    MLP: { description: "Goodfellow et al. 2014's MLP GAN, or in KPLUSONE and SUPERVISED modes the K+1 MLP of Salimans et al." },
  },
});
registerEnumType(GeneratorLossEnum, {
  name: 'GeneratorLoss',
  valuesConfig: {
    NON_SATURATING: { description: 'G maximises log D(G(z)): the practical choice of the paper.' },
    MINIMAX: { description: 'G minimises log(1 - D(G(z))): the game as written.' },
  },
});
registerEnumType(TrainingJobStateEnum, {
  name: 'TrainingJobState',
  valuesConfig: {
    QUEUED: { description: 'Accepted; waits for a training slot (GANQL_MAX_TRAINING_JOBS).' },
    RUNNING: { description: 'Training on a worker thread.' },
    SUCCEEDED: { description: 'Finished: modelId is the new version, servable at once.' },
    FAILED: { description: 'Ended with an error (error).' },
    CANCELLED: { description: 'Stopped by cancelTraining; its completed epochs are kept.' },
    INTERRUPTED: {
      description: 'The server stopped while it ran and did not resume it (error says why); one interrupted by a shutdown resumes on the next start.',
    },
  },
});
registerEnumType(TrainingEventTypeEnum, {
  name: 'TrainingEventType',
  valuesConfig: {
    STATE: { description: 'The job started (or resumed) on a worker, or, for a job another process runs, its state now.' },
    STEP: { description: 'Losses of the latest generator step (step); a few per second at most.' },
    EPOCH: { description: 'An epoch completed and checkpointed (epoch: its metrics and sample grid).' },
    END: { description: 'The last event: the final state, the new version (modelId) or why not (error).' },
  },
});

@ObjectType()
export class FeatureMatching {
  @Field(() => String, { description: 'The discriminator layer whose mean features G matches.' })
  layer!: string;

  @Field(() => FeatureMatchingBatchEnum, { nullable: true, description: "KPLUSONE mode: the real images matched; null in GAN mode (D's own real batch)." })
  batch!: FeatureMatchingBatch | null;
}

@ObjectType()
export class HistoricalAveraging {
  @Field(() => Float)
  weight!: number;
}

@ObjectType()
export class MinibatchDiscrimination {
  @Field(() => Int)
  kernels!: number;

  @Field(() => Int)
  kernelDim!: number;
}

@ObjectType()
export class VirtualBatchNorm {
  @Field(() => Int)
  referenceSize!: number;
}

@ObjectType({ description: "Salimans et al. 2016's switches a job uses; null = off." })
export class TrainingTechniques {
  @Field(() => Float, { nullable: true, description: 'One-sided label smoothing: D target for real images.' })
  labelSmoothing!: number | null;

  @Field(() => FeatureMatching, { nullable: true })
  featureMatching!: FeatureMatching | null;

  @Field(() => HistoricalAveraging, { nullable: true })
  historicalAveraging!: HistoricalAveraging | null;

  @Field(() => MinibatchDiscrimination, { nullable: true })
  minibatchDiscrimination!: MinibatchDiscrimination | null;

  @Field(() => VirtualBatchNorm, { nullable: true })
  virtualBatchNorm!: VirtualBatchNorm | null;
}

@ObjectType({ description: 'What a training job does, defaults filled in (see StartTrainingInput).' })
export class TrainingSpec {
  @Field(() => TrainingModeEnum)
  mode!: TrainingMode;

  @Field(() => TrainingArchitectureEnum)
  architecture!: TrainingArchitecture;

  @Field(() => String, { description: 'MNIST or FASHION_MNIST.' })
  dataset!: string;

  @Field(() => GeneratorLossEnum)
  generatorLoss!: GeneratorLoss;

  @Field(() => Int)
  epochs!: number;

  @Field(() => Int)
  batchSize!: number;

  @Field(() => Int)
  seed!: number;

  @Field(() => Float)
  learningRate!: number;

  @Field(() => Float)
  beta1!: number;

  @Field(() => Int, { description: 'Discriminator steps per generator step.' })
  k!: number;

  @Field(() => Int)
  latentSize!: number;

  @Field(() => Int, { nullable: true, description: 'Training images used at most; null: all.' })
  limit!: number | null;

  @Field(() => Int, { nullable: true, description: 'KPLUSONE and SUPERVISED: labelled examples per class.' })
  labelsPerClass!: number | null;

  @Field(() => Int, { nullable: true, description: 'Every this many epochs a version is kept as well.' })
  keepEvery!: number | null;

  @Field(() => Int, { nullable: true, description: 'DCGAN: filters of G and D at 14x14; null: the default 32.' })
  filters!: number | null;

  @Field(() => Float, { nullable: true, description: "Rate of the moving average of G's parameters the version is saved with; null: off." })
  generatorAverage!: number | null;

  @Field(() => Int, { nullable: true, description: 'Every this many epochs (and at the last) the Inception Score and FID are computed; null: never.' })
  evalEvery!: number | null;

  @Field(() => Int, { nullable: true, description: 'Samples of each of those evaluations; null without evalEvery.' })
  evalSamples!: number | null;

  @Field(() => TrainingTechniques)
  techniques!: TrainingTechniques;
}

@ObjectType({ description: 'One completed epoch of a training job.' })
export class TrainingEpoch {
  @Field(() => Int, { description: '1-based.' })
  epoch!: number;

  @Field(() => Float, { description: "Mean generator loss over the epoch's steps." })
  generatorLoss!: number;

  @Field(() => Float, { description: "Mean discriminator loss over the epoch's steps." })
  discriminatorLoss!: number;

  @Field(() => Float, { description: 'Fraction of real images D classed real, over the epoch.' })
  dAccuracyReal!: number;

  @Field(() => Float, { description: 'Fraction of generated images D classed fake, over the epoch.' })
  dAccuracyFake!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'KPLUSONE and SUPERVISED: fraction of the held-out test images the classifier gets wrong; null in GAN and AUTOENCODER modes.',
  })
  testError!: number | null;

  @Field(() => Float, { description: 'Wall-clock seconds of the epoch (training, evaluation and checkpoint).' })
  seconds!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "Training images consumed per second over the epoch's steps (evaluation and checkpoint not counted); null for epochs recorded before it was measured. See TrainingStep.imagesPerSecond.",
  })
  imagesPerSecond!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "With the job's evalEvery, on the epochs it names: the Inception Score (mean over splits of 1,000) of evalSamples samples from the (averaged) generator, by the dataset's scorer; else null. The figures on 10,000 samples come from evaluate.",
  })
  inceptionScore!: number | null;

  @Field(() => Float, { nullable: true, description: "The Inception Score's standard deviation over its splits." })
  inceptionScoreStd!: number | null;

  @Field(() => Float, { nullable: true, description: 'FID of the same samples against the scorer features of the training split; else null.' })
  fid!: number | null;

  @Field(() => Image, {
    description:
      "8x8 grid of G's samples from the job's fixed seeded noise after this epoch (AUTOENCODER: held-out digits and their reconstructions; SUPERVISED: held-out images, those misclassified in red).",
  })
  samples!: Image;

  @Field(() => ID, { nullable: true, description: 'The version kept at this epoch (keepEvery), if any.' })
  keptModelId!: string | null;
}

@ObjectType({ description: 'A training job (startTraining): a TRAIN run on a worker thread that ends in a new model version.' })
export class TrainingJob {
  @Field(() => ID, { description: 'Also the id of its TRAIN run.' })
  id!: string;

  @Field(() => TrainingJobStateEnum)
  state!: TrainingJobState;

  @Field(() => String, { description: 'Model name of the versions it makes.' })
  name!: string;

  @Field(() => String, { description: 'Version label its final model gets (modelId is "<name>@<version>").' })
  version!: string;

  @Field(() => TrainingSpec)
  spec!: TrainingSpec;

  @Field(() => ID, { nullable: true, description: 'The version it fine-tunes, if any.' })
  parentModelId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The version it made, once SUCCEEDED: sample it with samples(modelId: ...).' })
  modelId!: string | null;

  @Field(() => [ID], { description: 'Versions kept at epochs (keepEvery), oldest first.' })
  keptModelIds!: string[];

  @Field(() => Int)
  epochsCompleted!: number;

  @Field(() => Float, { description: 'How far it is, 0..1 (steps done / steps of all epochs); 1 once SUCCEEDED.' })
  progress!: number;

  @Field(() => String, { nullable: true, description: 'Why it FAILED, was CANCELLED or INTERRUPTED.' })
  error!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it first left the queue.' })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType()
export class TrainingJobEdge {
  @Field(() => String, { description: 'Pass as `after` to continue after this job.' })
  cursor!: string;

  @Field(() => TrainingJob)
  node!: TrainingJob;
}

@ObjectType({ description: 'Training jobs, newest first.' })
export class TrainingJobConnection {
  @Field(() => [TrainingJobEdge])
  edges!: TrainingJobEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Jobs matching the filter, over all pages.' })
  totalCount!: number;
}

@ObjectType({ description: 'Losses of one generator step.' })
export class TrainingStep {
  @Field(() => Int, { description: '1-based epoch.' })
  epoch!: number;

  @Field(() => Int, { description: '1-based step within the epoch.' })
  step!: number;

  @Field(() => Int)
  stepsPerEpoch!: number;

  @Field(() => Float)
  generatorLoss!: number;

  @Field(() => Float)
  discriminatorLoss!: number;

  @Field(() => Float, {
    description:
      'Training images consumed per second by this step: the real images it trains on (GAN and KPLUSONE: k * batchSize, the labelled batches of KPLUSONE not counted; AUTOENCODER: batchSize) over its wall-clock time.',
  })
  imagesPerSecond!: number;
}

@ObjectType({ description: 'One event of trainingProgress; which fields are set depends on type.' })
export class TrainingProgressEvent {
  @Field(() => TrainingEventTypeEnum)
  type!: TrainingEventType;

  @Field(() => ID)
  jobId!: string;

  @Field(() => TrainingJobStateEnum)
  state!: TrainingJobState;

  @Field(() => Float, { description: 'How far the job is, 0..1.' })
  progress!: number;

  @Field(() => Int, { nullable: true, description: 'STATE, END: epochs completed.' })
  epochsCompleted!: number | null;

  @Field(() => TrainingStep, { nullable: true, description: 'STEP: the latest step.' })
  step!: TrainingStep | null;

  @Field(() => TrainingEpoch, { nullable: true, description: 'EPOCH: the completed epoch.' })
  epoch!: TrainingEpoch | null;

  @Field(() => ID, { nullable: true, description: 'END, SUCCEEDED: the new model version.' })
  modelId!: string | null;

  @Field(() => String, { nullable: true, description: 'END: why it FAILED, was CANCELLED or INTERRUPTED.' })
  error!: string | null;
}
