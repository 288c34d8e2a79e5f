import { ArgsType, Field } from 'type-graphql';

@ArgsType()
export class ModelsArgs {
  @Field(() => Boolean, { defaultValue: false, description: 'Also list the archived versions (archiveModel), marked archived.' })
  includeArchived!: boolean;
}
