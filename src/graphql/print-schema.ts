import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildGanqlSchema } from './schema';

/** The SDL committed as schema.graphql: sorted, so it changes only when the API does. */
export async function printGanqlSchema(): Promise<string> {
  const header = '# Generated from the type-graphql classes in src/graphql by `npm run schema`. Do not edit.\n\n';
  return header + printSchema(lexicographicSortSchema(await buildGanqlSchema())) + '\n';
}
