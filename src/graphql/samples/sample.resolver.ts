import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { SampleService } from '../../samples/sample.service';
import type { GraphqlContext } from '../context';
import { toRun } from '../runs/run.mapper';
import { Run } from '../runs/run.type';
import { SamplesArgs } from './sample.args';
import { toSample } from './sample.mapper';
import { Sample } from './sample.type';

@Resolver(() => Sample)
export class SampleResolver {
  constructor(private readonly sampleService: SampleService) {}

  @Authorized('sample')
  @Query(() => [Sample], {
    description: 'Generates images through the shared inference pool; each is stored with its latent and recorded in one run.',
  })
  async samples(@Args(() => SamplesArgs) args: SamplesArgs): Promise<Sample[]> {
    return (await this.sampleService.samples(args)).map(toSample);
  }

  @Authorized('sample')
  @Query(() => Sample, { description: 'Regenerates a stored sample from its model version and latent; NOT_FOUND if unknown.' })
  async sample(@Arg('id', () => ID) id: string): Promise<Sample> {
    return toSample(await this.sampleService.sample(id));
  }

  @Authorized('read')
  @FieldResolver(() => Run, { description: 'The run that first produced this sample.' })
  async run(@Root() sample: Sample, @Ctx() context: GraphqlContext): Promise<Run> {
    return toRun(await context.runs.load(sample.runId));
  }
}
