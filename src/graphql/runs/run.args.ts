import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import type { RunKind, RunStatus } from '../../runs/run.kind';
import { MAX_RUNS_PAGE } from '../../runs/run.store';
import { RunKindEnum, RunStatusEnum } from './run.type';

@InputType({ description: 'All given fields must match.' })
export class RunFilterInput {
  @Field(() => RunKindEnum, { nullable: true })
  kind?: RunKind;

  @Field(() => RunStatusEnum, { nullable: true })
  status?: RunStatus;

  @Field(() => ID, { nullable: true })
  modelId?: string;
}

@ArgsType()
export class RunPageArgs {
  @Field(() => Int, { defaultValue: 20, description: `Page size, 1..${MAX_RUNS_PAGE}.` })
  first!: number;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string | null;
}

@ArgsType()
export class RunsArgs extends RunPageArgs {
  @Field(() => RunFilterInput, { nullable: true })
  filter?: RunFilterInput;
}
