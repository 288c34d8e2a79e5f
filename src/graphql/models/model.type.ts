import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
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

@ObjectType({ description: 'A trained, servable model version.' })
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
    description: 'Layers of the served generator that samples(removeFilters) and conceptFilters can name (batchnorms are folded away when served); empty without a generator.',
  })
  generatorLayers!: LayerInfo[];
}
