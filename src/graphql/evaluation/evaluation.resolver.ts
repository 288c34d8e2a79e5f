import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { EvaluationService } from '../../evaluation/evaluation.service';
import { NearestNeighbourService } from '../../evaluation/nearest-neighbour.service';
import type { GraphqlContext } from '../context';
import { toRun } from '../runs/run.mapper';
import { Run } from '../runs/run.type';
import { EvaluateArgs, EvaluationsArgs, NearestNeighboursArgs } from './evaluation.args';
import { toEvaluation, toNearestNeighbour, toScorer } from './evaluation.mapper';
import { Evaluation, NearestNeighbour, Scorer } from './evaluation.type';

@Resolver(() => Evaluation)
export class EvaluationResolver {
  constructor(
    private readonly evaluationService: EvaluationService,
    private readonly nearestNeighbourService: NearestNeighbourService,
  ) {}

  @Authorized('train')
  @Mutation(() => Run, {
    description:
      'Starts an evaluation of a model version as a background run and returns it at once (RUNNING): samples from fixed seeded noise go ' +
      'through the shared pool in chunks and through the scorer, then the metrics are computed and stored. Poll run(id) { status progress }, ' +
      'then read evaluation(runId). Bad input (unknown scorer, samples outside 100..50000, splits outside 1..50, no metrics, a scorer that ' +
      'does not fit the model) is BAD_USER_INPUT, an unknown model NOT_FOUND, each a FAILED run.',
  })
  async evaluate(@Args(() => EvaluateArgs) args: EvaluateArgs): Promise<Run> {
    return toRun(await this.evaluationService.evaluate(args));
  }

  @Authorized('read')
  @Query(() => Evaluation, { description: 'The results of an evaluate run; NOT_FOUND until it has SUCCEEDED.' })
  async evaluation(@Arg('runId', () => ID) runId: string): Promise<Evaluation> {
    return toEvaluation(await this.evaluationService.evaluation(runId));
  }

  @Authorized('read')
  @Query(() => [Evaluation], { description: 'Stored evaluations, newest first (first: 1..100), for dashboards that plot them over model versions.' })
  async evaluations(@Args(() => EvaluationsArgs) args: EvaluationsArgs): Promise<Evaluation[]> {
    return (await this.evaluationService.evaluations(args.modelId, args.first)).map(toEvaluation);
  }

  @Authorized('sample')
  @Query(() => [Scorer], { description: 'The registered scorers (models/scorers/<name>/scorer.json).' })
  scorers(): Scorer[] {
    return this.evaluationService.listScorers().map(toScorer);
  }

  @Authorized('sample')
  @Query(() => [NearestNeighbour], {
    description:
      "The nearest training image (pixel L2) of each stored sample, in order, from its model's training split; 1..64 ids. One run. " +
      'An unknown id is BAD_USER_INPUT naming it (sampleIds[i]).',
  })
  async nearestNeighbours(@Args(() => NearestNeighboursArgs) args: NearestNeighboursArgs): Promise<NearestNeighbour[]> {
    return (await this.nearestNeighbourService.nearestNeighbours(args.sampleIds)).map(toNearestNeighbour);
  }

  @Authorized('read')
  @FieldResolver(() => Run, { description: 'The EVALUATE run: parameters, duration, backend.' })
  async run(@Root() evaluation: Evaluation, @Ctx() context: GraphqlContext): Promise<Run> {
    return toRun(await context.runs.load(evaluation.runId));
  }
}
