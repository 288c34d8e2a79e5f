import { ArgsType, Field, ID, Int, registerEnumType } from 'type-graphql';
import { EVALUATION_METRICS, KID_SUBSET_SIZE, KID_SUBSETS, type EvaluationMetric } from '../../evaluation/compute-metrics';
import { EVALUATION_LIMITS } from '../../evaluation/evaluation.limits';
import { EVALUATION_SIZES } from '../../evaluation/evaluator';

const L = EVALUATION_LIMITS;

// type-graphql takes enums as objects; this mirrors the string union in evaluation/compute-metrics.ts.
export const EvaluationMetricEnum = Object.fromEntries(EVALUATION_METRICS.map((m) => [m, m])) as { [M in EvaluationMetric]: M };

registerEnumType(EvaluationMetricEnum, {
  name: 'EvaluationMetric',
  description: 'A score of a generator, computed on its samples from fixed seeded noise.',
  valuesConfig: {
    INCEPTION_SCORE: {
      description:
        "Inception Score (Salimans et al. 2016, as OpenAI's reference code): exp(E_x KL(p(y|x) || p(y))) from the scorer's class probabilities, " +
        'per split of the shuffled samples, reported as mean and std over splits. Higher is better; at most the number of classes.',
    },
    FID: {
      description:
        "Frechet Inception Distance (Heusel et al. 2017) between Gaussians fitted to the scorer's features of the samples and of the model's " +
        'whole training split (cached per scorer version). Lower is better; 0 for identical statistics.',
    },
    KID: {
      description:
        `Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel on scorer features, mean and std over ${KID_SUBSETS} ` +
        `subsets of min(${KID_SUBSET_SIZE}, samples, reference rows) drawn from the samples and from the training split. Lower is better; ~0 for the same distribution.`,
    },
    PARZEN: {
      description:
        `Parzen-window log-likelihood (Goodfellow et al. 2014): Gaussian windows on the first min(samples, ${EVALUATION_SIZES.parzenMaxSamples}) samples, pixels in [0, 1], ` +
        "sigma picked from 10^linspace(-1, 0, 10) on the first half of the dataset's test split, mean and standard error in nats on the second half. Higher is better.",
    },
  },
});

@ArgsType()
export class EvaluateArgs {
  @Field(() => ID, { nullable: true, description: 'Model version id or alias; the "default" alias when omitted.' })
  modelId?: string;

  @Field(() => [EvaluationMetricEnum], { description: 'Metrics to compute: at least one; repeats are ignored.' })
  metrics!: EvaluationMetric[];

  @Field(() => Int, {
    defaultValue: L.samples.default,
    description: `Samples to generate and score, ${L.samples.min}..${L.samples.max} (the paper's protocol: 50000). They come from seededLatents(seed), ${EVALUATION_SIZES.chunkSize} per pass through the shared pool.`,
  })
  samples!: number;

  @Field(() => Int, {
    defaultValue: L.seed.default,
    description: 'Seed of the latents, of the IS shuffle and of the KID subsets, 0..2147483647: the same seed gives the same numbers.',
  })
  seed!: number;

  @Field(() => Int, {
    defaultValue: L.splits.default,
    description: `Inception Score splits, ${L.splits.min}..${L.splits.max} (the reference code: 10).`,
  })
  splits!: number;

  @Field(() => String, {
    nullable: true,
    description:
      "Scorer name (see scorers); the first one trained on the model's dataset when omitted. It must take the model's channels, and one trained on another dataset ganql serves is refused.",
  })
  scorer?: string;
}

@ArgsType()
export class EvaluationsArgs {
  @Field(() => ID, { nullable: true, description: 'Only this model version; every model when omitted.' })
  modelId?: string;

  @Field(() => Int, { defaultValue: L.first.default, description: `How many, newest first, ${L.first.min}..${L.first.max}.` })
  first!: number;
}

@ArgsType()
export class NearestNeighboursArgs {
  @Field(() => [ID], { description: `Stored sample ids (of any models), ${L.sampleIds.min}..${L.sampleIds.max}.` })
  sampleIds!: string[];
}
