import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { InterpolationMethod } from '../../latent/latent-math';
import { Image } from '../common/image.type';
import { Sample } from '../samples/sample.type';
import { InterpolationMethodEnum } from './latent.args';

@ObjectType({ description: 'A walk between two latents; every image is a stored sample.' })
export class Interpolation {
  @Field(() => ID)
  runId!: string;

  @Field(() => InterpolationMethodEnum)
  method!: InterpolationMethod;

  @Field(() => [Sample], { description: 'The images in order, from `from` to `to` inclusive.' })
  samples!: Sample[];

  @Field(() => Image, { description: 'The whole walk as one grid, left to right (16 per row at most).' })
  grid!: Image;
}

@ObjectType({ description: 'One term of the arithmetic with the image of its mean latent.' })
export class ConceptResult {
  @Field(() => Float)
  coefficient!: number;

  @Field(() => Int)
  exemplarCount!: number;

  @Field(() => Sample, { description: "The image of the concept's mean latent, as in the paper's figure." })
  mean!: Sample;
}

@ObjectType({ description: 'Vector arithmetic on concept means (Radford et al. 2015, section 6).' })
export class LatentArithmetic {
  @Field(() => ID)
  runId!: string;

  @Field(() => Int, { description: 'Seed of the neighbour noise.' })
  seed!: number;

  @Field(() => Sample, { description: 'The image of sum(coefficient x concept mean).' })
  result!: Sample;

  @Field(() => [Sample], { description: 'The result plus uniform noise in [-noise, noise] on each coordinate.' })
  neighbours!: Sample[];

  @Field(() => [ConceptResult])
  concepts!: ConceptResult[];

  @Field(() => Image, { description: 'Result and neighbours as one grid: with 8 neighbours a 3x3 box with the result in the centre.' })
  grid!: Image;
}
