import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What every log line written on behalf of one request carries. */
export interface RequestScope {
  /** The HTTP request's id, or one GraphQL operation's over a WebSocket. */
  requestId: string;
  /** The id of the WebSocket connection an operation came over. */
  connectionId?: string;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Letters, digits and ._:- up to 128 characters: enough for UUIDs and tracing ids, nothing that can break a log line. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A fresh request id. */
export function newRequestId(): string {
  return randomUUID();
}

/** The caller's `x-request-id` when well-formed (so a proxy's id follows the request), else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID_PATTERN.test(value) ? value : newRequestId();
}

/** Runs `fn`, and everything it starts, inside `scope`. */
export function inRequest<T>(scope: RequestScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/**
 * Puts the rest of the current synchronous run, and what it starts, inside `scope`: for event handlers
 * of a library that gives no way to wrap the call (graphql-ws's message handler).
 */
export function enterRequest(scope: RequestScope): void {
  scopes.enterWith(scope);
}

/** The scope of the request being served, if any. */
export function currentRequest(): RequestScope | undefined {
  return scopes.getStore();
}
