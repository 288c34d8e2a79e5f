// @ts-check
// The studio's only way to the server: the public GraphQL API at /graphql, over HTTP (queries,
// mutations; here) and graphql-ws (subscriptions; subscriptions.js), exactly as any other client would use it.

const KEY_STORAGE = 'ganql.apiKey';
const ENDPOINT = '/graphql';

/** @typedef {{ message?: unknown, path?: ReadonlyArray<string | number>, extensions?: { code?: unknown } }} GraphqlError one entry of a response's `errors` */

/** An error from the API or the way to it. `code`: extensions.code, 'HTTP_<status>' or 'NETWORK'. */
export class ApiError extends Error {
  /**
   * @param {string} message the server's message (or what went wrong on the way)
   * @param {string} code
   * @param {ReadonlyArray<string | number> | undefined} [path] the GraphQL path of the failed field
   */
  constructor(message, code, path) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.path = path;
    /** @type {GraphqlError[] | undefined} every GraphQL error of the response, when there were several */
    this.errors = undefined;
  }
}

/** The stored API key, or '' when none. */
export function getApiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    // Storage can be off (private windows, file:); the studio then works without a key.
    return '';
  }
}

const API_KEY_EVENT = 'ganql:apikey';

/**
 * Calls `listener` whenever the key is stored or removed; returns what stops it (for a page's unmount).
 * @param {(event: Event) => void} listener
 * @returns {() => void}
 */
export function onApiKeyChange(listener) {
  window.addEventListener(API_KEY_EVENT, listener);
  return () => window.removeEventListener(API_KEY_EVENT, listener);
}

/**
 * Stores the key (trimmed); an empty key removes it. Tells onApiKeyChange listeners.
 * @param {string | null | undefined} key
 */
export function setApiKey(key) {
  const value = String(key ?? '').trim();
  try {
    if (value === '') localStorage.removeItem(KEY_STORAGE);
    else localStorage.setItem(KEY_STORAGE, value);
  } catch {
    // Nothing to do: see getApiKey.
  }
  window.dispatchEvent(new CustomEvent(API_KEY_EVENT, { detail: { hasKey: value !== '' } }));
}

/**
 * An ApiError from one GraphQL error of a response, coded by its extensions.code or else `fallbackCode`.
 * @param {GraphqlError | null | undefined} error
 * @param {string} fallbackCode
 */
export function fromGraphqlError(error, fallbackCode) {
  const code = typeof error?.extensions?.code === 'string' ? error.extensions.code : fallbackCode;
  return new ApiError(typeof error?.message === 'string' ? error.message : 'The server answered with an error', code, error?.path);
}

/**
 * POSTs a query or mutation and resolves with its `data`; throws ApiError on any error.
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @param {{ signal?: AbortSignal }} [options]
 */
export async function gql(query, variables = {}, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  const key = getApiKey();
  if (key !== '') headers.authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: options.signal });
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw error;
    throw new ApiError('Cannot reach the ganql server', 'NETWORK');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered HTTP ${response.status} without a GraphQL body`, `HTTP_${response.status}`);
  }
  if (Array.isArray(body?.errors) && body.errors.length > 0) {
    const error = fromGraphqlError(body.errors[0], `HTTP_${response.status}`);
    error.errors = body.errors;
    throw error;
  }
  if (!response.ok || body?.data == null) throw new ApiError(`The server answered HTTP ${response.status} with no data`, `HTTP_${response.status}`);
  return body.data;
}

const KEYS_COMMAND = 'npm run keys -- create --name me --scopes read,sample,train';

/**
 * Words for a person: what went wrong and what to do.
 * @param {unknown} err
 */
export function describeError(err) {
  // The studio's own checks (e.g. nothing to classify) throw plain Errors worded for a person.
  if (!(err instanceof ApiError))
    return err instanceof Error && err.message ? err.message[0].toUpperCase() + err.message.slice(1) : 'Something went wrong in the studio';
  const message = err.message;
  switch (err.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN': {
      const scope = /scope "([a-z]+)"/.exec(message)?.[1];
      if (scope !== undefined) {
        const held = err.code === 'FORBIDDEN' ? ' Your key does not have it.' : ' No API key is set, and requests without one may not do this.';
        return `This needs an API key with the \`${scope}\` scope.${held} Create one with \`${KEYS_COMMAND}\` and paste it under Settings. (Server: ${message})`;
      }
      return `The server refused the API key: ${message}. Paste a valid key under Settings, or clear it to work without one.`;
    }
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'QUERY_TOO_COMPLEX':
    case 'GRAPHQL_VALIDATION_FAILED':
      return message;
    case 'RATE_LIMITED':
      return `Too many requests for this API key; wait a moment. (${message})`;
    case 'OVERLOADED':
      return `The server is busy (its work queue is full); try again in a moment. (${message})`;
    case 'TIMEOUT':
      return `The server did not finish in time; try less work at once. (${message})`;
    case 'UNAVAILABLE':
      return `The server is starting or stopping; try again shortly. (${message})`;
    case 'NETWORK':
      return 'Cannot reach the ganql server. Is it running? The studio talks to /graphql on the host that served it.';
    case 'INTERNAL_SERVER_ERROR':
      return 'The server failed while doing this; its log has the details.';
    default:
      return message;
  }
}
