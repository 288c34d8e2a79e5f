/**
 * Every error code a ganql client can see, in `errors[].extensions.code`. The first six are Apollo
 * Server's and graphql-js's own codes for a request refused before execution, under the same names.
 */
export enum ErrorCode {
  /** The document is not valid GraphQL syntax. */
  GRAPHQL_PARSE_FAILED = 'GRAPHQL_PARSE_FAILED',
  /** The document does not match the schema (an unknown field, a missing argument, a wrong literal type). */
  GRAPHQL_VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED',
  /** The HTTP request itself is malformed: a body that is not JSON, text that is not well-formed Unicode, a wrong persisted-query hash. */
  BAD_REQUEST = 'BAD_REQUEST',
  /** The document holds several operations and the request names none of them, or one it lacks. */
  OPERATION_RESOLUTION_FAILURE = 'OPERATION_RESOLUTION_FAILURE',
  /** An automatic persisted query's hash this server has not stored yet; send the query with it. */
  PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND',
  /** Persisted queries are turned off. */
  PERSISTED_QUERY_NOT_SUPPORTED = 'PERSISTED_QUERY_NOT_SUPPORTED',
  /** The request's arguments or variables are wrong; the message says what was expected and what came. */
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  /**
   * The request is over a query limit (depth, aliases, root fields, cost or images per request),
   * refused before any work; the message names the limit, what is allowed and what came.
   */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** No API key, or one that is malformed, unknown or revoked, where the operation needs one. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The API key is valid but lacks the scope the operation needs; the message names it. */
  FORBIDDEN = 'FORBIDDEN',
  /** The API key sent more requests than its rate limit allows; retry after the Retry-After header's seconds. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** A model, sample or run id that does not exist. */
  NOT_FOUND = 'NOT_FOUND',
  /** The inference queue is full; retry later. */
  OVERLOADED = 'OVERLOADED',
  /** The work did not finish within the configured time. */
  TIMEOUT = 'TIMEOUT',
  /** The server is starting or shutting down. */
  UNAVAILABLE = 'UNAVAILABLE',
  /** Anything else; details are in the server log, never in the response. */
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}
