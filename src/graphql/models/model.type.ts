import { Field, ID, Int, ObjectType } from 'type-graphql';
import { LayerInfo } from '../features/features.type';

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

  @Field(() => String, { description: 'What this server runs the model on, as serverInfo.backend names it.' })
  backend!: string;

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
