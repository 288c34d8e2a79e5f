import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError } from '../errors/ganql-error';
import type { Logger } from '../log/logger';

// Codes Apollo Server and graphql-js give to errors about the request itself: safe to show.
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.BAD_REQUEST,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
  ErrorCode.PERSISTED_QUERY_NOT_FOUND,
  ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
]);

// Request errors graphql-js and Apollo raise without a code: the client's fault, not an internal one.
const UNCODED_REQUEST_ERRORS: readonly [RegExp, ErrorCode][] = [
  [/^Too many errors processing variables, error limit reached/, ErrorCode.BAD_USER_INPUT],
  [/^provided sha does not match query$/, ErrorCode.BAD_REQUEST],
];

/** The code of an error raised before execution that Apollo left without one, if it is a known request error. */
export function uncodedRequestErrorCode(error: unknown): ErrorCode | undefined {
  if (!(error instanceof GraphQLError) || error.path || error.originalError || error.extensions?.code !== undefined) return undefined;
  return UNCODED_REQUEST_ERRORS.find(([pattern]) => pattern.test(error.message))?.[1];
}

/** Client-facing errors: ganql's own pass with their code, request errors as Apollo made them, the rest masked. */
export function createFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    // Errors raised before execution (query limits) carry their GanqlError as originalError, without a path.
    const original = unwrapped instanceof GraphQLError && !unwrapped.path && isGanqlError(unwrapped.originalError) ? unwrapped.originalError : unwrapped;
    if (isGanqlError(original)) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: { code: original.code } };
    }
    const code = uncodedRequestErrorCode(unwrapped) ?? formatted.extensions?.code;
    if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code) && !formatted.path) {
      return { message: formatted.message, locations: formatted.locations, extensions: { code } };
    }
    log.error('internal error in a GraphQL request', {
      path: formatted.path,
      error: original instanceof Error ? `${original.name}: ${original.message}\n${original.stack ?? ''}` : String(original),
    });
    return { message: 'Internal server error', path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
