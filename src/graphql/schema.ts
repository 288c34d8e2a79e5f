import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type AuthChecker, type ClassType, type ContainerType } from 'type-graphql';
import type { AuthContext } from './auth-checker';
import { ClassifyResolver } from './classify/classify.resolver';
import { ImageResolver } from './common/image.resolver';
import { EvaluationResolver } from './evaluation/evaluation.resolver';
import { ModelEvaluationResolver } from './evaluation/model-evaluation.resolver';
import { FeaturesResolver } from './features/features.resolver';
import { LatentResolver } from './latent/latent.resolver';
import { ModelResolver } from './models/model.resolver';
import { RunResolver } from './runs/run.resolver';
import { SampleResolver } from './samples/sample.resolver';
import { ServerInfoResolver } from './server/server-info.resolver';
import { TrainingResolver } from './training/training.resolver';

export const RESOLVERS = [
  ModelResolver,
  SampleResolver,
  LatentResolver,
  EvaluationResolver,
  ModelEvaluationResolver,
  RunResolver,
  ServerInfoResolver,
  ClassifyResolver,
  TrainingResolver,
  FeaturesResolver,
  ImageResolver,
] as const;

/** Resolver instances by class, built by the caller with their services. */
export type ResolverInstances = Map<ClassType, object>;

/** A schema built only to print it executes nothing; were it executed, every @Authorized field would refuse. */
const refuseAll: AuthChecker<AuthContext> = () => false;

/**
 * Builds the schema; resolvers come from `instances` (a schema-only build may pass none), and
 * `authChecker` decides every @Authorized('<scope>') field (src/graphql/auth-checker.ts).
 */
export async function buildGanqlSchema(instances: ResolverInstances = new Map(), authChecker: AuthChecker<AuthContext> = refuseAll): Promise<GraphQLSchema> {
  const container: ContainerType = {
    get(someClass: ClassType) {
      const instance = instances.get(someClass);
      if (!instance) throw new Error(`no instance registered for resolver ${someClass.name}`);
      return instance;
    },
  };
  return buildSchema({
    resolvers: [...RESOLVERS],
    container,
    authChecker,
    // Arguments are validated inside the services, so a refused request is still a recorded run.
    validate: false,
    // type-graphql wants a PubSub once any @Subscription exists, even one with its own `subscribe`
    // (trainingProgress streams from the training job service); none uses this one.
    pubSub: {
      publish: () => undefined,
      subscribe: () => {
        throw new Error('ganql subscriptions bring their own subscribe; the schema PubSub is unused');
      },
    },
  });
}
