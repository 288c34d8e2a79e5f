import type express from 'express';
import type { Logger } from '../log/logger';
import { inRequest, requestIdFrom, type RequestScope } from '../log/request-scope';

/**
 * Gives each HTTP request an id (the caller's well-formed `x-request-id`, else a fresh one), returns it
 * in the `X-Request-Id` response header, and runs the rest of the request inside its log scope, so
 * every line logged on its behalf carries it. A debug line records how the request ended.
 */
export function requestIdMiddleware(log: Logger): express.RequestHandler {
  return (req, res, next) => {
    const scope: RequestScope = { requestId: requestIdFrom(req.headers['x-request-id']) };
    res.setHeader('X-Request-Id', scope.requestId);
    const started = performance.now();
    // Read now: routers mounted below rewrite req.url while they run.
    const { method, path } = req;
    res.once('finish', () =>
      inRequest(scope, () => log.debug('request finished', { method, path, status: res.statusCode, ms: Math.round(performance.now() - started) })),
    );
    inRequest(scope, next);
  };
}
