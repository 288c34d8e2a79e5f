import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { RUN_KINDS, RUN_STATUSES, type RunKind, type RunStatus } from '../../runs/run.kind';

// type-graphql takes enums as objects; these mirror the string unions in runs/run.kind.ts.
export const RunKindEnum = Object.fromEntries(RUN_KINDS.map((k) => [k, k])) as { [K in RunKind]: K };
export const RunStatusEnum = Object.fromEntries(RUN_STATUSES.map((s) => [s, s])) as { [S in RunStatus]: S };

registerEnumType(RunKindEnum, {
  name: 'RunKind',
  description: 'What a run did.',
  valuesConfig: {
    SAMPLE: { description: 'samples: generated new images.' },
    REGENERATE: { description: 'sample(id): regenerated a stored image from its latent.' },
    INTERPOLATE: { description: 'interpolate: a walk between two latents.' },
    ARITHMETIC: { description: 'latentArithmetic: vector arithmetic on concept means.' },
    EVALUATE: { description: 'evaluate: scored a model version (Inception Score, FID, KID, Parzen); a background job with progress.' },
    NEAREST_NEIGHBOURS: { description: 'nearestNeighbours: the nearest training image of each of some samples.' },
    REQUEST: { description: 'A request refused before any work (it did not match the schema or was over a query limit).' },
    NEURON_PROBE: { description: 'neuronProbe: single neurons of a feature network tested as concept detectors (Le et al. 2012).' },
    OPTIMAL_STIMULUS: { description: 'optimalStimulus: the input maximising one neuron, by gradient ascent under a norm constraint.' },
    FEATURE_CLASSIFIER: { description: "featureClassifier: a linear classifier on a feature network's max-pooled features (Radford et al. 2015)." },
    CONCEPT_FILTERS: { description: 'conceptFilters: the generator feature maps most associated with a concept, and the effect of removing them.' },
    SET_MODEL_ALIAS: {
      description:
        'setModelAlias (or the start-up seed of "default"): an alias pointed at a model version; parameters say by whom, result the previous target.',
    },
    DELETE_MODEL_ALIAS: { description: 'deleteModelAlias: an alias removed; result says what it pointed at.' },
    ARCHIVE_MODEL: { description: 'archiveModel: a model version stopped being served; its records stay.' },
    UNARCHIVE_MODEL: { description: 'unarchiveModel: an archived model version served again.' },
  },
});
registerEnumType(RunStatusEnum, {
  name: 'RunStatus',
  valuesConfig: {
    RUNNING: { description: 'Started, not finished.' },
    SUCCEEDED: { description: 'Finished with a result.' },
    FAILED: { description: 'Finished with an error (errorCode, errorMessage).' },
    INTERRUPTED: { description: 'The process stopped while it ran.' },
  },
});

@ObjectType({ description: 'One recorded operation. Every request that does work is a run, failed ones included.' })
export class Run {
  @Field(() => ID)
  id!: string;

  @Field(() => RunKindEnum)
  kind!: RunKind;

  @Field(() => RunStatusEnum)
  status!: RunStatus;

  @Field(() => GraphQLJSON, { description: 'The request parameters.' })
  parameters!: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Summary of the result (seed, sample ids), when succeeded.' })
  result!: unknown;

  @Field(() => ID, { nullable: true })
  modelId!: string | null;

  @Field(() => String, { nullable: true, description: 'What computed in the process that ran it, as serverInfo.backend names it.' })
  backend!: string | null;

  @Field(() => String, { nullable: true })
  errorCode!: string | null;

  @Field(() => String, { nullable: true })
  errorMessage!: string | null;

  @Field(() => Float, { nullable: true, description: 'Wall-clock milliseconds from start to finish.' })
  durationMs!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'How far a long job (EVALUATE) is, 0..1, updated a few times a second while RUNNING; 1 once SUCCEEDED. Null for short runs.',
  })
  progress!: number | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType()
export class RunEdge {
  @Field(() => String, { description: 'Pass as `after` to continue after this run.' })
  cursor!: string;

  @Field(() => Run)
  node!: Run;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType({ description: 'Runs, newest first.' })
export class RunConnection {
  @Field(() => [RunEdge])
  edges!: RunEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Runs matching the filter, over all pages.' })
  totalCount!: number;
}
