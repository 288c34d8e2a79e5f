import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { RunService } from '../../runs/run.service';
import type { GraphqlContext } from '../context';
import { RunsArgs } from './run.args';
import { toRun, toRunConnection } from './run.mapper';
import { Run, RunConnection } from './run.type';

@Resolver(() => Run)
export class RunResolver {
  constructor(private readonly runService: RunService) {}

  @Authorized('read')
  @Query(() => RunConnection, { description: 'Recorded runs, newest first, filtered and paged (first: 1..100).' })
  async runs(@Args(() => RunsArgs) args: RunsArgs): Promise<RunConnection> {
    return toRunConnection(await this.runService.list(args.filter ?? {}, args.first, args.after));
  }

  @Authorized('read')
  @Query(() => Run, { description: 'One run; NOT_FOUND if the id is unknown.' })
  async run(@Arg('id', () => ID) id: string): Promise<Run> {
    return toRun(await this.runService.get(id));
  }

  @Authorized('read')
  @FieldResolver(() => [ID], { description: 'Ids of the samples this run produced, in order; each regenerates via sample(id).' })
  sampleIds(@Root() run: Run, @Ctx() context: GraphqlContext): Promise<string[]> {
    return context.sampleIdsByRun.load(run.id);
  }
}
