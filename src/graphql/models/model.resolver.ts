import { Arg, Args, Authorized, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { ModelService } from '../../models/model.service';
import { RunService } from '../../runs/run.service';
import { RunPageArgs } from '../runs/run.args';
import { toRunConnection } from '../runs/run.mapper';
import { RunConnection } from '../runs/run.type';
import { toModel } from './model.mapper';
import { Model } from './model.type';

@Resolver(() => Model)
export class ModelResolver {
  constructor(
    private readonly modelService: ModelService,
    private readonly runService: RunService,
  ) {}

  @Authorized('sample')
  @Query(() => [Model], { description: 'Every servable model version.' })
  models(): Model[] {
    return this.modelService.list().map((m) => toModel(m, this.modelService.backend, this.modelService.engines(m.id)));
  }

  @Authorized('sample')
  @Query(() => Model, { description: 'One model version; NOT_FOUND if the id is unknown.' })
  model(@Arg('id', () => ID) id: string): Model {
    return toModel(this.modelService.get(id), this.modelService.backend, this.modelService.engines(id));
  }

  @Authorized('read')
  @FieldResolver(() => RunConnection, { description: "This model's runs, newest first." })
  async runs(@Root() model: Model, @Args(() => RunPageArgs) page: RunPageArgs): Promise<RunConnection> {
    return toRunConnection(await this.runService.list({ modelId: model.id }, page.first, page.after));
  }
}
