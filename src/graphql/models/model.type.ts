import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LayerInfo } from '../features/features.type';

// type-graphql takes enums as objects; the keys are the GraphQL values, the values the service's pass names.
export const ModelPassEnum = { GENERATE: 'generate', CLASSIFY: 'classify' } as const;

registerEnumType(ModelPassEnum, {
  name: 'ModelPass',
  description: 'A forward pass a model serves through the inference pool.',
  valuesConfig: {
    GENERATE: { description: 'Latents to images: samples and every operation that returns images.' },
    CLASSIFY: { description: "Images to class probabilities: classify, on a model with a K+1 or supervised classifier." },
  },
});

@ObjectType({ description: 'What computes one pass of a model on this server, and why, when it is not what was asked for.' })
export class ModelEngine {
  @Field(() => ModelPassEnum)
  pass!: (typeof ModelPassEnum)[keyof typeof ModelPassEnum];

  @Field(() => String, {
    description: 'onnxruntime (ONNX Runtime, CPU provider), onnxruntime-cuda (its CUDA provider), or the tfjs backend (wasm, cpu, tensorflow, tensorflow-gpu).',
  })
  engine!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Why this pass is not on ONNX Runtime (its export was refused, it failed the check against tfjs, onnxruntime-node did not load) or not on the providers asked for (CUDA unavailable); null when it is served as configured.',
  })
  reason!: string | null;
}

@ObjectType({ description: 'Height, width and channels of the images a model makes (a model without a generator: that it classifies).' })
export class ImageShape {
  @Field(() => Int)
  height!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  channels!: number;
}

@ObjectType({ description: "Where a model version came from: its training run as its manifest records it, and the version it was fine-tuned from." })
export class ModelProvenance {
  @Field(() => String, { description: 'The exact command that trained it (npm run train ..., or the startTraining job and its settings).' })
  command!: string;

  @Field(() => Int, { description: 'Seed of the training run.' })
  seed!: number;

  @Field(() => Int, { description: 'Epochs it trained for.' })
  epochs!: number;

  @Field(() => Int)
  batchSize!: number;

  @Field(() => Float)
  learningRate!: number;

  @Field(() => String, { description: 'Dataset it was trained on.' })
  dataset!: string;

  @Field(() => Int, { description: 'Training examples it used.' })
  examples!: number;

  @Field(() => Date, { description: 'When its training finished.' })
  trainedAt!: Date;

  @Field(() => Float, { description: 'Wall-clock seconds its training took.' })
  durationSeconds!: number;

  @Field(() => String, { description: 'The tfjs backend it trained on (Model.backend is the one serving it).' })
  backend!: string;

  @Field(() => String, { nullable: true, description: 'The kernels it trained on, e.g. "native avx512, 2 threads"; null for versions written before this was recorded.' })
  kernels!: string | null;

  @Field(() => ID, { nullable: true, description: 'The version it was fine-tuned from (fineTuneFrom, --fine-tune-from); null when it trained from scratch.' })
  parentModelId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The startTraining job that made it; null for versions trained by npm run train.' })
  trainingJobId!: string | null;
}

@ObjectType({ description: 'A name for a model version, usable wherever a model id goes; "default" is what a query naming no model serves.' })
export class ModelAlias {
  @Field(() => String, { description: "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (never '@', which model ids hold)." })
  alias!: string;

  @Field(() => ID, { description: 'The version it names (always a served one).' })
  modelId!: string;

  @Field(() => String, { description: 'Who set it: "key <id> (<name>)", "anonymous (loopback)", or "seed: <source>" for the start-up seed of "default".' })
  setBy!: string;

  @Field(() => Date)
  setAt!: Date;
}

@ObjectType({ description: 'A trained model version: served, or archived (archiveModel) with its records kept.' })
export class Model {
  @Field(() => ID, { description: '"<name>@<version>", stable across restarts.' })
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String, { description: 'Architecture, e.g. "dcgan" (Radford et al. 2015).' })
  architecture!: string;

  @Field(() => String, { description: 'Dataset it was trained on, e.g. "mnist".' })
  dataset!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Length of the latent vector z; null on a model without a generator (trained in SUPERVISED mode: it serves classify and the feature analyses only).',
  })
  latentSize!: number | null;

  @Field(() => ImageShape)
  imageShape!: ImageShape;

  @Field(() => String, { description: 'The engines of this server, as serverInfo.backend names them; `engines` says which computes each pass of this model.' })
  backend!: string;

  @Field(() => [ModelEngine], { description: 'What computes each pass this model serves (generate, then classify), and why when it is not ONNX Runtime as configured.' })
  engines!: ModelEngine[];

  @Field(() => Date, { description: 'When this version finished training.' })
  createdAt!: Date;

  @Field(() => String, { description: 'The exact command that trained this version.' })
  trainingCommand!: string;

  @Field(() => Int, { description: 'Seed of the training run.' })
  trainingSeed!: number;

  @Field(() => String, {
    nullable: true,
    description: 'What the feature analyses (neuronProbe, optimalStimulus, featureClassifier) read: "discriminator" (a GAN\'s D) or "encoder" (an autoencoder\'s); null when the model has no feature network.',
  })
  featureNetworkRole!: string | null;

  @Field(() => [LayerInfo], { nullable: true, description: 'Layers of the feature network the analyses can name (no input, flatten, reshape, dropout or noise layers); null without a feature network.' })
  featureLayers!: LayerInfo[] | null;

  @Field(() => [LayerInfo], {
    description:
      'Layers of the served generator that samples(removeFilters) and conceptFilters can name (batchnorms are folded away when served); empty without a generator, and for an archived version, which is not loaded.',
  })
  generatorLayers!: LayerInfo[];

  @Field(() => [String], { description: 'The aliases naming this version (setModelAlias), sorted; "default" among them when queries naming no model serve it.' })
  aliases!: string[];

  @Field(() => Boolean, { description: 'True once archiveModel took it out of service: new work with it is NOT_FOUND, its runs, samples and evaluations stay readable.' })
  archived!: boolean;

  @Field(() => Date, { nullable: true, description: 'When it was archived; null while served.' })
  archivedAt!: Date | null;
}
