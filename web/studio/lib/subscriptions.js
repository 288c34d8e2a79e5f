// @ts-check
// GraphQL subscriptions through graphql-ws's own client (the graphql-transport-ws protocol): one socket
// for every subscription, opened by the first and closed after the last, kept alive with pings, and
// opened again after a drop, each subscription resuming on the new socket. The API key goes in
// connection_init; a new key reconnects at once.

import { createClient } from '../vendor/graphql-ws.mjs';
import { ApiError, fromGraphqlError, getApiKey, onApiKeyChange } from './api.js';

/** @typedef {import('../vendor/graphql-ws.mjs').Client} Client */

/**
 * @typedef {object} SubscriptionHandlers
 * @property {(data: any) => void} [next] each result's `data`
 * @property {(err: ApiError) => void} [error] the stream failed; nothing follows
 * @property {() => void} [complete] the server ended the stream
 */

const ENDPOINT = '/graphql';
/** A ping after this long without one (ms): proxies drop quiet sockets, and a dead socket shows in time. */
const KEEP_ALIVE_MS = 10_000;
/** Reconnections tried after a drop before a subscription reports the connection lost. */
const RETRY_ATTEMPTS = 5;
/** Seconds waited before each reconnection (then 4 s), plus up to 1 s so many tabs do not reconnect at once. */
const RETRY_DELAYS_S = [1, 2, 4];
/** The close code graphql-ws's docs use to restart a client: not fatal, so it reconnects. */
const RESTART_CODE = 4205;

// graphql-transport-ws close codes that mean the server refused us (see graphql-ws's CloseCode).
/** @type {Record<number, [string, string]>} */
const CLOSE_REASONS = {
  4400: ['The server refused a malformed message', 'BAD_REQUEST'],
  4401: ['The server closed the connection before it was set up', 'UNAUTHENTICATED'],
  4403: ['The server refused the API key', 'UNAUTHENTICATED'],
  4408: ['The server did not answer the connection in time', 'TIMEOUT'],
  4429: ['Too many connection attempts', 'RATE_LIMITED'],
  4500: ['The server failed', 'INTERNAL_SERVER_ERROR'],
};

/**
 * @param {unknown} value
 * @returns {value is { code: number, reason: string }}
 */
function isCloseEvent(value) {
  return typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'number' && 'reason' in value;
}

/** @type {Client | undefined} */
let client;
/** The socket from its opening to its close. @type {WebSocket | undefined} */
let socket;
/** Whether `socket` has been acknowledged (connection_init accepted). */
let acknowledged = false;
/** The key changed while the socket was still being set up: restart once it is. */
let restartWhenConnected = false;
/** The next reconnection is a restart: no waiting. */
let restarting = false;

/** Closes the socket so graphql-ws reconnects with the current key; nothing to do while none is open. */
function restart() {
  if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
  if (!acknowledged) {
    restartWhenConnected = true;
    return;
  }
  restarting = true;
  socket.close(RESTART_CODE, 'API key changed');
}

/** The studio's one client, made on first use. */
function theClient() {
  if (client !== undefined) return client;
  const url = new URL(ENDPOINT, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  client = createClient({
    url: url.href,
    lazy: true,
    keepAlive: KEEP_ALIVE_MS,
    retryAttempts: RETRY_ATTEMPTS,
    // Read at each connection, so a reconnection carries the key stored by then.
    connectionParams: () => {
      const key = getApiKey();
      return key !== '' ? { authorization: `Bearer ${key}` } : {};
    },
    // A refused key stays refused until it changes (which restarts anyway); anything else may pass on a retry.
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === 4403),
    retryWait: async (retries) => {
      if (restarting) {
        restarting = false;
        return;
      }
      const seconds = RETRY_DELAYS_S[Math.min(retries, RETRY_DELAYS_S.length - 1)] ?? 4;
      await new Promise((resolve) => setTimeout(resolve, (seconds + Math.random()) * 1000));
    },
    on: {
      opened: (opened) => {
        // The browser's WebSocket: graphql-ws types it unknown because it also runs in Node.
        socket = /** @type {WebSocket} */ (opened);
        acknowledged = false;
      },
      connected: () => {
        acknowledged = true;
        if (restartWhenConnected) {
          restartWhenConnected = false;
          restart();
        }
      },
      closed: () => {
        socket = undefined;
        acknowledged = false;
      },
    },
  });
  onApiKeyChange(restart);
  return client;
}

/**
 * What went wrong, as the studio reports API errors.
 * @param {unknown} failure what graphql-ws's sink received: GraphQL errors, a close event or a socket error
 * @param {boolean} reached whether this subscription ever had a connected socket
 */
function apiErrorOf(failure, reached) {
  if (Array.isArray(failure)) {
    return Object.assign(fromGraphqlError(failure[0], 'GRAPHQL_ERROR'), { errors: failure });
  }
  const known = isCloseEvent(failure) ? CLOSE_REASONS[failure.code] : undefined;
  if (known !== undefined && isCloseEvent(failure)) return new ApiError(failure.reason || known[0], known[1]);
  return new ApiError(reached ? 'The connection to the ganql server was lost' : 'Cannot reach the ganql server', 'NETWORK');
}

/**
 * Subscribes over graphql-ws on ws(s)://<host>/graphql, sharing the studio's one socket; the key goes in
 * connection_init as { authorization: 'Bearer <key>' }. A result with errors fails the subscription.
 * @param {string} query
 * @param {Record<string, unknown>} variables
 * @param {SubscriptionHandlers} handlers
 * @returns {() => void} unsubscribe: stops the stream (no handler is called after it); the socket closes with the last one
 */
export function subscribe(query, variables, handlers) {
  const shared = theClient();
  let finished = false;
  let reached = acknowledged;
  const stopWatching = shared.on('connected', () => {
    reached = true;
  });
  /** @param {(() => void) | undefined} callback */
  const finish = (callback) => {
    if (finished) return;
    finished = true;
    stopWatching();
    callback?.();
  };
  const stop = shared.subscribe(
    { query, variables },
    {
      next: (result) => {
        if (finished) return;
        const errors = result.errors;
        if (Array.isArray(errors) && errors.length > 0) {
          finish(() => handlers.error?.(apiErrorOf(errors, reached)));
          stop();
          return;
        }
        handlers.next?.(result.data);
      },
      error: (failure) => finish(() => handlers.error?.(apiErrorOf(failure, reached))),
      complete: () => finish(() => handlers.complete?.()),
    },
  );
  return () => {
    finish(undefined);
    stop();
  };
}
