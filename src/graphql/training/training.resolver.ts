import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { badInput } from '../../errors/ganql-error';
import type { TrainingEvent } from '../../training-jobs/training-events';
import { TrainingJobService } from '../../training-jobs/training-job.service';
import type { GraphqlContext } from '../context';
import { toRun } from '../runs/run.mapper';
import { Run } from '../runs/run.type';
import { StartTrainingInput, TrainingJobsArgs } from './training.args';
import { toTrainingEpoch, toTrainingEvent, toTrainingJob, toTrainingJobConnection, toTrainingRequest } from './training.mapper';
import { TrainingEpoch, TrainingJob, TrainingJobConnection, TrainingProgressEvent } from './training.type';

/** What the graphql-ws server adds to a subscription's context: the service trainingProgress streams from. */
export interface TrainingSubscriptionContext {
  trainingJobs: TrainingJobService;
}

function hasTrainingJobs(context: unknown): context is TrainingSubscriptionContext {
  return typeof context === 'object' && context !== null && (context as Partial<TrainingSubscriptionContext>).trainingJobs instanceof TrainingJobService;
}

@Resolver(() => TrainingJob)
export class TrainingResolver {
  constructor(private readonly service: TrainingJobService) {}

  @Authorized('train')
  @Mutation(() => TrainingJob, {
    description:
      'Starts a training job (from scratch, or fine-tuning fineTuneFrom) as a TRAIN run and returns it at once, QUEUED or RUNNING. It trains on a ' +
      'worker thread, so serving stays responsive; watch it with the trainingProgress subscription (graphql-ws on /graphql) or poll ' +
      'trainingJob(id). When it SUCCEEDS, modelId is a new version in the registry, servable at once (kept epochs too). Bad input is ' +
      'BAD_USER_INPUT, an unknown fineTuneFrom NOT_FOUND, each a FAILED TRAIN run.',
  })
  async startTraining(@Arg('input', () => StartTrainingInput) input: StartTrainingInput): Promise<TrainingJob> {
    return toTrainingJob(await this.service.start(toTrainingRequest(input)));
  }

  @Authorized('train')
  @Mutation(() => TrainingJob, {
    description:
      'Stops a QUEUED or RUNNING job after its current step and returns it once stopped: CANCELLED, its completed epochs kept. ' +
      'A job that has ended is BAD_USER_INPUT (the message says its state); an unknown id NOT_FOUND.',
  })
  async cancelTraining(@Arg('id', () => ID) id: string): Promise<TrainingJob> {
    return toTrainingJob(await this.service.cancel(id));
  }

  @Authorized('read')
  @Query(() => TrainingJob, { description: 'One training job; NOT_FOUND if the id is unknown.' })
  async trainingJob(@Arg('id', () => ID) id: string): Promise<TrainingJob> {
    return toTrainingJob(await this.service.get(id));
  }

  @Authorized('read')
  @Query(() => TrainingJobConnection, { description: 'Training jobs, newest first, optionally in one state, paged (first: 1..100).' })
  async trainingJobs(@Args(() => TrainingJobsArgs) args: TrainingJobsArgs): Promise<TrainingJobConnection> {
    return toTrainingJobConnection(await this.service.list(args.status ?? undefined, args.first, args.after ?? undefined));
  }

  @Authorized('read')
  @Subscription(() => TrainingProgressEvent, {
    description:
      "A job's progress as it happens, over graphql-ws at /graphql: STATE when it starts, STEP with the step losses (a few per second " +
      'at most), EPOCH with the epoch metrics and sample grid, then END with the final state and the new model id; then the stream ' +
      'completes. For a job that has ended, its END event at once. NOT_FOUND for an unknown id.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { jobId: string }, unknown>) => {
      if (!hasTrainingJobs(context)) throw new Error('trainingProgress: expected the graphql-ws context with trainingJobs, got another context');
      // The argument's type ID! makes it a string.
      return context.trainingJobs.subscribe(args.jobId);
    },
  })
  trainingProgress(@Root() event: TrainingEvent | undefined, @Arg('jobId', () => ID) _jobId: string): TrainingProgressEvent {
    // Over HTTP a subscription operation is executed once with no event: say where it is served.
    if (event === undefined) throw badInput('trainingProgress: expected a subscription over graphql-ws (graphql-transport-ws) on /graphql, got one over HTTP');
    return toTrainingEvent(event);
  }

  @Authorized('read')
  @FieldResolver(() => [TrainingEpoch], { description: 'Its completed epochs, oldest first, each with its metrics and sample grid.' })
  async epochs(@Root() job: TrainingJob): Promise<TrainingEpoch[]> {
    return (await this.service.epochs(job.id)).map(toTrainingEpoch);
  }

  @Authorized('read')
  @FieldResolver(() => Run, { description: 'Its TRAIN run: parameters, status, duration, backend.' })
  async run(@Root() job: TrainingJob, @Ctx() context: GraphqlContext): Promise<Run> {
    return toRun(await context.runs.load(job.id));
  }
}
