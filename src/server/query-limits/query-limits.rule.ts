import { GraphQLError, type ValidationRule } from 'graphql';
import type { QueryLimits } from '../../config/config';
import { checkLimits } from './check-limits';
import { measureOperation } from './measure-operation';

/**
 * A validation rule refusing operations over the depth, alias or root-field limit: these need no
 * variables, so they are refused before the rest of validation and before any resolver. Apollo
 * reports it as GRAPHQL_VALIDATION_FAILED; the GanqlError it carries gives the client its code.
 */
export function queryShapeLimitsRule(limits: QueryLimits): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const error = checkLimits(measureOperation(context.getSchema(), context.getDocument(), operation), limits, [
        'depth',
        'aliases',
        'rootFields',
        'analyses',
      ]);
      if (error) context.reportError(new GraphQLError(error.message, { nodes: operation, originalError: error, extensions: { code: error.code } }));
      return false;
    },
    // Fragments are measured where operations spread them.
    FragmentDefinition: () => false,
  });
}
