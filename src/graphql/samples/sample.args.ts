import { ArgsType, Field, Float, ID, InputType, Int } from 'type-graphql';
import { DEFAULT_MAX_SAMPLES } from '../../config/config';
import { SAMPLE_LIMITS } from '../../samples/sample.limits';

@InputType({
  description:
    'Generator feature maps to zero while generating (Radford et al. 2015, sec 6.3.1 "forgetting to draw" windows): the channels `filters` of the output of generator layer `layer` are set to 0 for every sample. Model.generatorLayers lists the layers; conceptFilters finds the filters of a concept.',
})
export class FilterRemovalInput {
  @Field(() => String, { description: 'A layer of Model.generatorLayers (the served generator, batchnorm folded).' })
  layer!: string;

  @Field(() => [Int], { description: "1..(the layer's filters) distinct filter (channel) indices, each 0..filters-1." })
  filters!: number[];
}

@ArgsType()
export class SamplesArgs {
  @Field(() => ID, { nullable: true, description: 'Model version id or alias; the "default" alias when omitted.' })
  modelId?: string;

  @Field(() => Int, {
    nullable: true,
    description: `How many images, ${SAMPLE_LIMITS.count.min}..GANQL_MAX_SAMPLES (default limit ${DEFAULT_MAX_SAMPLES}). Default ${SAMPLE_LIMITS.count.default}, or the number of latents.`,
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

  @Field(() => FilterRemovalInput, {
    nullable: true,
    description: 'Generate with these generator feature maps zeroed. Recorded in the run, so sample(id) regenerates the same image with the same removal.',
  })
  removeFilters?: FilterRemovalInput;
}
