import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Height, width and channels of the images a model makes.' })
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

  @Field(() => Int, { description: 'Length of the latent vector z.' })
  latentSize!: number;

  @Field(() => ImageShape)
  imageShape!: ImageShape;

  @Field(() => String, { description: 'The tfjs backend this server runs the model on.' })
  backend!: string;

  @Field(() => Date, { description: 'When this version finished training.' })
  createdAt!: Date;

  @Field(() => String, { description: 'The exact command that trained this version.' })
  trainingCommand!: string;

  @Field(() => Int, { description: 'Seed of the training run.' })
  trainingSeed!: number;
}
