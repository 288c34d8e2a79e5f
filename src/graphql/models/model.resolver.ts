import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { describePrincipal } from '../../auth/principal';
import { ModelAdminService } from '../../model-admin/model-admin.service';
import { ModelService } from '../../models/model.service';
import { RunService } from '../../runs/run.service';
import type { GraphqlContext } from '../context';
import { RunPageArgs } from '../runs/run.args';
import { toRunConnection } from '../runs/run.mapper';
import { RunConnection } from '../runs/run.type';
import { ModelsArgs } from './model.args';
import { toModel, toModelAlias, toProvenance } from './model.mapper';
import { Model, ModelAlias, ModelProvenance } from './model.type';

@Resolver(() => Model)
export class ModelResolver {
  constructor(
    private readonly modelService: ModelService,
    private readonly runService: RunService,
    private readonly modelAdmin: ModelAdminService,
  ) {}

  @Authorized('sample')
  @Query(() => [Model], { description: 'The served model versions by id; archived ones too with includeArchived.' })
  models(@Args(() => ModelsArgs) args: ModelsArgs): Model[] {
    return this.modelService.list(args.includeArchived).map((entry) => this.toModel(entry));
  }

  @Authorized('sample')
  @Query(() => Model, {
    description: 'One model version by id or alias (e.g. "default"), served or archived (its card and records); NOT_FOUND for an unknown id or alias.',
  })
  model(@Arg('id', () => ID, { description: 'A model id ("<name>@<version>") or an alias.' }) id: string): Model {
    return this.toModel(this.modelService.describe(id));
  }

  @Authorized('read')
  @Query(() => [ModelAlias], { description: 'Every alias with what it names, who set it and when, by name.' })
  async modelAliases(): Promise<ModelAlias[]> {
    return (await this.modelAdmin.aliases()).map(toModelAlias);
  }

  @Authorized('admin')
  @Mutation(() => ModelAlias, {
    description:
      'Points an alias at a served model version, creating or moving it, for every replica; "default" is what queries naming no model serve. ' +
      "modelId may be an alias, whose current target is taken (a copy, not a link). A malformed alias is BAD_USER_INPUT; an unknown or archived version NOT_FOUND. " +
      'Recorded as a SET_MODEL_ALIAS run (its result holds the previous target).',
  })
  setModelAlias(
    @Arg('alias', () => String) alias: string,
    @Arg('modelId', () => ID) modelId: string,
    @Ctx() context: GraphqlContext,
  ): Promise<ModelAlias> {
    return this.modelAdmin.setAlias(alias, modelId, describePrincipal(context.principal)).then(toModelAlias);
  }

  @Authorized('admin')
  @Mutation(() => ModelAlias, {
    description: 'Removes an alias and returns what it named; "default" cannot be removed (BAD_USER_INPUT), an unknown alias is NOT_FOUND. A DELETE_MODEL_ALIAS run.',
  })
  deleteModelAlias(@Arg('alias', () => String) alias: string, @Ctx() context: GraphqlContext): Promise<ModelAlias> {
    return this.modelAdmin.deleteAlias(alias, describePrincipal(context.principal)).then(toModelAlias);
  }

  @Authorized('admin')
  @Mutation(() => Model, {
    description:
      'Takes a served version out of service on every replica: unloaded from the inference pool, hidden from models, and new work with it ' +
      '(samples, sample(id) regeneration, classify, evaluate, ...) is NOT_FOUND; its runs, samples and evaluations stay readable. Refused ' +
      '(BAD_USER_INPUT) while an alias names it or when it is archived already. An ARCHIVE_MODEL run.',
  })
  archiveModel(@Arg('id', () => ID) id: string, @Ctx() context: GraphqlContext): Promise<Model> {
    return this.modelAdmin.archive(id, describePrincipal(context.principal)).then((entry) => this.toModel(entry));
  }

  @Authorized('admin')
  @Mutation(() => Model, { description: 'Serves an archived version again, on every replica, loaded from its folder. An UNARCHIVE_MODEL run.' })
  unarchiveModel(@Arg('id', () => ID) id: string, @Ctx() context: GraphqlContext): Promise<Model> {
    return this.modelAdmin.unarchive(id, describePrincipal(context.principal)).then((entry) => this.toModel(entry));
  }

  @Authorized('sample')
  @FieldResolver(() => ModelProvenance, { description: "How it was trained, from its manifest, and the version it was fine-tuned from." })
  async provenance(@Root() model: Model): Promise<ModelProvenance> {
    const entry = this.modelService.describe(model.id);
    return toProvenance(entry, await this.modelService.lineage(entry));
  }

  @Authorized('read')
  @FieldResolver(() => RunConnection, { description: "This model's runs, newest first." })
  async runs(@Root() model: Model, @Args(() => RunPageArgs) page: RunPageArgs): Promise<RunConnection> {
    return toRunConnection(await this.runService.list({ modelId: model.id }, page.first, page.after));
  }

  private toModel(entry: Parameters<typeof toModel>[0]): Model {
    return toModel(entry, this.modelService.backend, this.modelService.aliasesOf(entry.model.id), this.modelService.engines(entry.model.id));
  }
}
