import type { AuthChecker } from 'type-graphql';
import { describePrincipal, requireScope, type Principal } from '../auth/principal';
import { isScope } from '../auth/scopes';
import { ErrorCode } from '../errors/error-code';
import { isGanqlError } from '../errors/ganql-error';
import type { Logger } from '../log/logger';

/** The part of the GraphQL context the auth checker reads. */
export interface AuthContext {
  principal: Principal;
}

/**
 * type-graphql's checker for `@Authorized('<scope>')`: one scope per field. A refusal throws
 * UNAUTHENTICATED or FORBIDDEN before the resolver runs (so no run is recorded) and is logged.
 */
export function createAuthChecker(log: Logger, onRefused?: (reason: 'unauthenticated' | 'forbidden') => void): AuthChecker<AuthContext> {
  return ({ context, info }, roles) => {
    const [scope] = roles;
    // A decorator with anything but exactly one known scope is a programming error: fail closed.
    if (roles.length !== 1 || scope === undefined || !isScope(scope))
      throw new Error(`@Authorized on ${info.parentType.name}.${info.fieldName}: expected one scope, got ${JSON.stringify(roles)}`);
    const field =
      info.parentType.name === 'Query' || info.parentType.name === 'Mutation' || info.parentType.name === 'Subscription'
        ? info.fieldName
        : `${info.parentType.name}.${info.fieldName}`;
    try {
      requireScope(context.principal, scope, field);
    } catch (error) {
      if (isGanqlError(error)) {
        log.warn('request refused: scope', { principal: describePrincipal(context.principal), field, scope, code: error.code });
        onRefused?.(error.code === ErrorCode.FORBIDDEN ? 'forbidden' : 'unauthenticated');
      }
      throw error;
    }
    return true;
  };
}
