import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { EvaluationResolver } from './evaluation/evaluation.resolver';
import { LatentResolver } from './latent/latent.resolver';
import { ModelResolver } from './models/model.resolver';
import { RunResolver } from './runs/run.resolver';
import { SampleResolver } from './samples/sample.resolver';
import { ServerInfoResolver } from './server/server-info.resolver';

export const RESOLVERS = [ModelResolver, SampleResolver, LatentResolver, EvaluationResolver, RunResolver, ServerInfoResolver] as const;

/** Resolver instances by class, built by the caller with their services. */
export type ResolverInstances = Map<Function, object>;

/** Builds the schema; resolvers come from `instances` (a schema-only build may pass none). */
export async function buildGanqlSchema(instances: ResolverInstances = new Map()): Promise<GraphQLSchema> {
  const container: ContainerType = {
    get(someClass: Function) {
      const instance = instances.get(someClass);
      if (!instance) throw new Error(`no instance registered for resolver ${someClass.name}`);
      return instance;
    },
  };
  return buildSchema({
    resolvers: [...RESOLVERS],
    container,
    // Arguments are validated inside the services, so a refused request is still a recorded run.
    validate: false,
  });
}
