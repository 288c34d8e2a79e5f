import { ArgsType, Field, Float, ID, InputType, Int, registerEnumType } from 'type-graphql';
import type { InterpolationMethod } from '../../latent/latent-math';
import { LATENT_LIMITS } from '../../latent/latent.limits';

const L = LATENT_LIMITS;

export const InterpolationMethodEnum = { LINEAR: 'LINEAR', SLERP: 'SLERP' } as const satisfies { [M in InterpolationMethod]: M };

registerEnumType(InterpolationMethodEnum, {
  name: 'InterpolationMethod',
  valuesConfig: {
    LINEAR: { description: 'Straight line (1 - t) a + t b. Its midpoints are shorter than typical Gaussian z.' },
    SLERP: {
      description: 'Spherical interpolation along the great circle between a and b: the right walk for Gaussian z, whose mass lies near a sphere (White 2016).',
    },
  },
});

@InputType({ description: 'A point in latent space: exactly one of a stored sample id or an explicit latent vector.' })
export class LatentRefInput {
  @Field(() => ID, { nullable: true, description: 'A sample of the same model; its stored latent is used.' })
  sampleId?: string;

  @Field(() => [Float], { nullable: true, description: "An explicit latent: the model's latentSize finite numbers." })
  latent?: number[];
}

@InputType({ description: 'coefficient x (mean of the exemplars): one term of A - B + C.' })
export class ConceptTermInput {
  @Field(() => Float, { description: `Weight of this concept, -${L.coefficient.max}..${L.coefficient.max} (e.g. 1 or -1).` })
  coefficient!: number;

  @Field(() => [LatentRefInput], {
    description: `${L.exemplars.min}..${L.exemplars.max} exemplars whose mean latent is the concept vector (Radford et al. average 3).`,
  })
  exemplars!: LatentRefInput[];
}

@ArgsType()
export class InterpolateArgs {
  @Field(() => ID, { nullable: true, description: 'Model version id or alias; the "default" alias when omitted.' })
  modelId?: string;

  @Field(() => LatentRefInput)
  from!: LatentRefInput;

  @Field(() => LatentRefInput)
  to!: LatentRefInput;

  @Field(() => Int, { defaultValue: L.steps.default, description: `Images in the walk, endpoints included: ${L.steps.min}..${L.steps.max}.` })
  steps!: number;

  @Field(() => InterpolationMethodEnum, { defaultValue: L.method.default, description: `${L.method.default} (default) is the right walk for Gaussian z.` })
  method!: InterpolationMethod;
}

@ArgsType()
export class LatentArithmeticArgs {
  @Field(() => ID, { nullable: true, description: 'Model version id or alias; the "default" alias when omitted.' })
  modelId?: string;

  @Field(() => [ConceptTermInput], { description: `${L.terms.min}..${L.terms.max} terms, e.g. smiling woman - neutral woman + neutral man.` })
  terms!: ConceptTermInput[];

  @Field(() => Float, {
    defaultValue: L.noise.default,
    description: `Scale of the uniform noise added to make each neighbour, ${L.noise.min}..${L.noise.max} (paper: 0.25).`,
  })
  noise!: number;

  @Field(() => Int, {
    defaultValue: L.neighbours.default,
    description: `Noisy neighbours of the result, ${L.neighbours.min}..${L.neighbours.max} (paper: 8, a 3x3 box).`,
  })
  neighbours!: number;

  @Field(() => Int, { nullable: true, description: 'Seed of the neighbour noise, 0..2147483647; random when omitted (returned in seed).' })
  seed?: number;
}
