import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { QueryLimits } from '../../config/config';
import type { GraphqlContext } from '../../graphql/context';
import { checkLimits } from './check-limits';
import { measureOperation } from './measure-operation';

/**
 * Refuses the operation about to run when its cost or its images are over the limit. Both depend on
 * variables (samples(count: $n)), known only once the operation is resolved, still before any resolver.
 * A samples field counts at most `maxSamplesPerField` (GANQL_MAX_SAMPLES): beyond it, it refuses itself.
 */
export function queryCostLimits(limits: QueryLimits, maxSamplesPerField: number): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const error = checkLimits(measureOperation(schema, document, operation, request.variables ?? {}, maxSamplesPerField), limits, ['images', 'cost']);
          if (error) throw new GraphQLError(error.message, { originalError: error, extensions: { code: error.code, http: { status: 400 } } });
        },
      };
    },
  };
}
