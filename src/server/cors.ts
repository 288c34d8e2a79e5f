import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * Request headers a page of an allowed origin may send: the API key (either header), JSON bodies,
 * a request id, and Apollo's CSRF-prevention header. No cookies: ganql authenticates by the key alone.
 */
const ALLOWED_HEADERS = ['Authorization', 'X-API-Key', 'Content-Type', 'X-Request-Id', 'Apollo-Require-Preflight'];

/** Response headers its scripts may read besides the CORS-safelisted ones (Cache-Control, Content-Type, ...). */
const EXPOSED_HEADERS = ['ETag', 'Retry-After', 'X-Request-Id'];

/** How long a browser may reuse a preflight's answer; Chromium caps it at 2 hours. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for the public routes (/graphql, /images, /healthz), in front of admission and auth so
 * preflights are answered at once and refusals (401, 429, 503) are readable by the page. Only the
 * exact `origins` (GANQL_CORS_ORIGINS) get Access-Control-Allow-Origin; others, and every origin when
 * the list is empty, get a preflight answer without it, which browsers take as a refusal. Never
 * Access-Control-Allow-Credentials: there are no cookies to send, the key travels in a header.
 */
export function corsMiddleware(origins: readonly string[]): RequestHandler {
  return cors({
    origin: [...origins],
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
  });
}
