import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/error-code';
import { GanqlError } from '../../src/errors/ganql-error';
import { createLogger } from '../../src/log/logger';
import { createFormatError } from '../../src/server/format-error';

function setup() {
  const lines: string[] = [];
  return { lines, format: createFormatError(createLogger('debug', (l) => lines.push(l))) };
}

describe('formatError', () => {
  it("passes ganql's own errors with their code", () => {
    const { format, lines } = setup();
    const original = new GanqlError(ErrorCode.OVERLOADED, 'queue full');
    const wrapped = new GraphQLError(original.message, { path: ['samples'], originalError: original });
    expect(format(wrapped.toJSON(), wrapped)).toMatchObject({ message: 'queue full', path: ['samples'], extensions: { code: 'OVERLOADED' } });
    expect(lines).toEqual([]);
  });

  it('masks internal errors and logs them', () => {
    const { format, lines } = setup();
    const original = new TypeError("Cannot read properties of undefined (reading 'secret')");
    const wrapped = new GraphQLError(original.message, { path: ['samples'], originalError: original });
    const out = format(wrapped.toJSON(), wrapped);
    expect(out).toEqual({ message: 'Internal server error', path: ['samples'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(out)).not.toContain('secret');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("reading 'secret'");
  });

  it('keeps request errors (validation) as they are', () => {
    const { format } = setup();
    const error = new GraphQLError('Cannot query field "x" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(format(error.toJSON(), error)).toMatchObject({ message: error.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it("gives a query limit refused in validation its own code, not Apollo's GRAPHQL_VALIDATION_FAILED", () => {
    const { format, lines } = setup();
    const original = new GanqlError(ErrorCode.QUERY_TOO_COMPLEX, 'aliases: expected at most 32 aliased fields (GANQL_MAX_ALIASES), got 100');
    // As Apollo wraps a validation rule's error: its code replaced, the rule's error kept as originalError.
    const wrapped = new GraphQLError(original.message, { originalError: original, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(format(wrapped.toJSON(), wrapped)).toEqual({ message: original.message, extensions: { code: 'QUERY_TOO_COMPLEX' } });
    expect(lines).toEqual([]);
  });
});
