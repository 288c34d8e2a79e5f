import { ArgsType, Field, Float, ID, Int } from 'type-graphql';

@ArgsType()
export class SamplesArgs {
  @Field(() => ID, { nullable: true, description: 'Model version id; the server default when omitted.' })
  modelId?: string;

  @Field(() => Int, {
    nullable: true,
    description: 'How many images, 1..GANQL_MAX_SAMPLES (default limit 256). Default 1, or the number of latents.',
  })
  count?: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Seed of the standard normal latents, 0..2147483647; the same seed gives the same images. Random when omitted.',
  })
  seed?: number;

  @Field(() => [[Float]], {
    nullable: true,
    description: "Explicit latent vectors, used as given: each must have the model's latentSize finite numbers. Excludes seed.",
  })
  latents?: number[][];
}
