/** Every error code a ganql client can see, in `errors[].extensions.code`. */
export enum ErrorCode {
  /** The request's arguments are wrong; the message says what was expected and what came. */
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
