import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type GraphQLError } from 'graphql';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError } from '../errors/ganql-error';
import type { Logger } from '../log/logger';
import { uncodedRequestErrorCode } from './format-error';
import type { RunService } from '../runs/run.service';
import type { GraphqlContext } from '../graphql/context';

const MAX_RECORDED_VARIABLES = 4096;

// Errors raised before any resolver ran carry no path: parse, validation, variable coercion, query limits.
const REJECTION_CODES = new Set<string>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.QUERY_TOO_COMPLEX,
]);

/** The code the client sees: a query-limit rule's own code rather than Apollo's GRAPHQL_VALIDATION_FAILED. */
function codeOf(error: GraphQLError): string {
  if (isGanqlError(error.originalError)) return error.originalError.code;
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : String(uncodedRequestErrorCode(error));
}

function rootFields(document: DocumentNode | undefined): string[] {
  if (!document) return [];
  return document.definitions.flatMap((d) =>
    d.kind === Kind.OPERATION_DEFINITION ? d.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) : [],
  );
}

/**
 * Records a FAILED run of kind REQUEST for a request refused before execution (it did not parse,
 * did not match the schema, its variables had the wrong types, or it was over a query limit), so no bad input goes unrecorded.
 */
export function recordRejectedRequests(runs: RunService, log: Logger): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, request, document }) {
          const rejected = errors.filter((e) => !e.path && REJECTION_CODES.has(codeOf(e)));
          if (rejected.length === 0 || rejected.length !== errors.length) return;
          let variables = JSON.stringify(request.variables ?? {}) ?? '{}';
          if (variables.length > MAX_RECORDED_VARIABLES) variables = `${variables.slice(0, MAX_RECORDED_VARIABLES)}...(truncated)`;
          const parameters = { operationName: request.operationName ?? null, fields: rootFields(document), variables };
          await runs
            .recordRejected('REQUEST', parameters, codeOf(rejected[0]), rejected.map((e) => e.message).join('; '))
            .catch((error: unknown) => log.error('could not record a rejected request', { error: String(error) }));
        },
      };
    },
  };
}
