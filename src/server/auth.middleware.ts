import type express from 'express';
import type { ApiKeyService } from '../auth/api-key.service';
import { anonymous, describePrincipal, requireScope, type AnonymousPolicy, type Principal } from '../auth/principal';
import type { KeyRateLimiter, RateLimit } from '../auth/rate-limiter';
import type { Scope } from '../auth/scopes';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError } from '../errors/ganql-error';
import type { Logger } from '../log/logger';

export interface AuthOptions {
  apiKeys: ApiKeyService;
  anonymous: AnonymousPolicy;
  /** Applied to keys without their own rate (GANQL_KEY_RATE_LIMIT); a key's own rate keeps this burst ratio. */
  keyRateLimit: RateLimit;
  /** In memory on SQLite; in the database on PostgreSQL, so replicas share each key's limit. */
  limiter: KeyRateLimiter;
  log: Logger;
  onRefused?: (reason: 'unauthenticated' | 'forbidden' | 'rate_limited') => void;
}

/** The key a request presents: "Authorization: Bearer <key>" or "X-API-Key: <key>"; undefined when none. */
export function presentedKey(headers: { authorization?: string; 'x-api-key'?: string | string[] }): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined && auth.trim() !== '') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    // A malformed header is a malformed key, not an anonymous request.
    return match ? match[1] : auth;
  }
  const header = headers['x-api-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

/** Resolves who is asking, from a key if one is sent (a bad key is refused, never treated as none). */
export async function resolvePrincipal(
  key: string | undefined,
  remoteAddress: string | undefined,
  options: Pick<AuthOptions, 'apiKeys' | 'anonymous'>,
): Promise<Principal> {
  if (key === undefined) return anonymous(remoteAddress, options.anonymous);
  const record = await options.apiKeys.authenticate(key);
  return { kind: 'key', keyId: record.id, name: record.name, scopes: record.scopes, rateLimit: record.rateLimit };
}

export function rateLimitOf(principal: Principal, fallback: RateLimit): RateLimit | undefined {
  if (principal.kind !== 'key') return undefined;
  if (principal.rateLimit === null) return fallback;
  const ratio = fallback.ratePerSecond > 0 ? fallback.burst / fallback.ratePerSecond : 2;
  return { ratePerSecond: principal.rateLimit, burst: Math.max(1, Math.round(principal.rateLimit * ratio)) };
}

function refuse(res: express.Response, status: number, code: ErrorCode, message: string): void {
  // RFC 9110: a 401 says how to authenticate.
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="ganql"');
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .json({ errors: [{ message, extensions: { code } }] });
}

/**
 * Puts the request's Principal in res.locals.principal for the GraphQL context, or answers at once:
 * 401 UNAUTHENTICATED for a malformed, unknown or revoked key, 429 RATE_LIMITED (with Retry-After)
 * for a key over its rate. Refusals are logged with the key id and address, never recorded as runs.
 */
export function authMiddleware(options: AuthOptions): express.RequestHandler {
  return (req, res, next) => {
    const remote = req.socket.remoteAddress;
    // The principal to go on with, or undefined when the request was answered here (429).
    const admit = async (): Promise<Principal | undefined> => {
      const principal = await resolvePrincipal(presentedKey(req.headers), remote, options);
      const limit = rateLimitOf(principal, options.keyRateLimit);
      if (limit === undefined || principal.kind !== 'key') return principal;
      const decision = await options.limiter.take(principal.keyId, limit);
      if (!decision.allowed) {
        options.log.warn('request refused: rate limit', { principal: describePrincipal(principal), remote, ratePerSecond: limit.ratePerSecond });
        options.onRefused?.('rate_limited');
        res.setHeader('Retry-After', String(decision.retryAfterSeconds));
        refuse(
          res,
          429,
          ErrorCode.RATE_LIMITED,
          `rate limit of key ${principal.keyId} exceeded: ${limit.ratePerSecond} requests per second (burst ${limit.burst}); retry after ${decision.retryAfterSeconds} s`,
        );
        return undefined;
      }
      return principal;
    };
    admit().then(
      (principal) => {
        if (principal === undefined) return;
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        if (isGanqlError(error) && error.code === ErrorCode.UNAUTHENTICATED) {
          options.log.warn('request refused: bad API key', { remote, reason: error.message });
          options.onRefused?.('unauthenticated');
          refuse(res, 401, ErrorCode.UNAUTHENTICATED, error.message);
          return;
        }
        next(error);
      },
    );
  };
}

/**
 * For routes outside GraphQL (GET /images, GET /metrics), after authMiddleware: lets the request on
 * only when its principal grants `scope`, else answers as GraphQL's checker words it, with an HTTP
 * status: 401 UNAUTHENTICATED when no key was sent, 403 FORBIDDEN when the key lacks the scope.
 * `route` names the route in the message and the log.
 */
export function scopeMiddleware(scope: Scope, route: string, options: Pick<AuthOptions, 'log' | 'onRefused'>): express.RequestHandler {
  return (req, res, next) => {
    // authMiddleware runs first and always sets it (it answers the request itself otherwise).
    const principal = res.locals.principal as Principal;
    try {
      requireScope(principal, scope, route);
    } catch (error) {
      if (!isGanqlError(error)) throw error;
      const forbidden = error.code === ErrorCode.FORBIDDEN;
      options.log.warn('request refused: scope', { principal: describePrincipal(principal), route, scope, code: error.code, remote: req.socket.remoteAddress });
      options.onRefused?.(forbidden ? 'forbidden' : 'unauthenticated');
      refuse(res, forbidden ? 403 : 401, error.code, error.message);
      return;
    }
    next();
  };
}
