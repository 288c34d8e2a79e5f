import { ErrorCode } from '../errors/error-code';
import { GanqlError } from '../errors/ganql-error';
import { grants, type Scope } from './scopes';

/** Who is asking: the API key presented, or nobody (with where from, since policy differs). */
export type Principal =
  | { kind: 'key'; keyId: string; name: string; scopes: readonly Scope[]; rateLimit: number | null }
  | { kind: 'anonymous'; loopback: boolean; scopes: readonly Scope[] };

/** Who may do what without a key. */
export interface AnonymousPolicy {
  /** Scopes of requests without a key from this machine (127.0.0.1, ::1). @default ["sample"] */
  loopbackScopes: readonly Scope[];
  /** Scopes of requests without a key from anywhere else. @default [] (everything keyed) */
  remoteScopes: readonly Scope[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function isLoopback(remoteAddress: string | undefined): boolean {
  return remoteAddress !== undefined && LOOPBACK.has(remoteAddress);
}

export function anonymous(remoteAddress: string | undefined, policy: AnonymousPolicy): Principal {
  const loopback = isLoopback(remoteAddress);
  return { kind: 'anonymous', loopback, scopes: loopback ? policy.loopbackScopes : policy.remoteScopes };
}

/** A short label for logs: never the secret. */
export function describePrincipal(p: Principal): string {
  return p.kind === 'key' ? `key ${p.keyId} (${p.name})` : `anonymous (${p.loopback ? 'loopback' : 'remote'})`;
}

/**
 * Throws unless `principal` may use `field`, which needs `scope`: UNAUTHENTICATED when no key was
 * sent and one is needed, FORBIDDEN when the key lacks the scope. The message says what is needed.
 */
export function requireScope(principal: Principal, scope: Scope, field: string): void {
  if (grants(principal.scopes, scope)) return;
  if (principal.kind === 'anonymous') {
    const open = principal.scopes.length === 0 ? 'nothing' : `only ${principal.scopes.map((s) => `"${s}"`).join(', ')}`;
    throw new GanqlError(
      ErrorCode.UNAUTHENTICATED,
      `${field}: expected an API key with scope "${scope}" (header "Authorization: Bearer gq_..."), got none; ` +
        `requests without a key from ${principal.loopback ? 'localhost' : 'other hosts'} may use ${open}`,
    );
  }
  throw new GanqlError(
    ErrorCode.FORBIDDEN,
    `${field}: expected an API key with scope "${scope}", got key ${principal.keyId} with ${principal.scopes.map((s) => `"${s}"`).join(', ')}`,
  );
}
