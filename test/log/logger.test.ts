import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger';
import { inRequest, requestIdFrom } from '../../src/log/request-scope';

function collect(level: Parameters<typeof createLogger>[0]) {
  const lines: string[] = [];
  const log = createLogger(level, (line) => lines.push(line));
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const KEY = 'gq_0123456789ab_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ';

describe('createLogger', () => {
  it('writes one JSON line per call with time, level, message and the fields', () => {
    const { log, lines, parsed } = collect('info');
    log.info('database ready', { provider: 'sqlite', applied: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [line] = parsed();
    expect(line).toMatchObject({ level: 'info', message: 'database ready', provider: 'sqlite', applied: 2 });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('drops lines below the level, and everything when silent', () => {
    const warn = collect('warn');
    warn.log.debug('a');
    warn.log.info('b');
    warn.log.warn('c');
    warn.log.error('d');
    expect(warn.parsed().map((l) => [l.level, l.message])).toEqual([
      ['warn', 'c'],
      ['error', 'd'],
    ]);
    const silent = collect('silent');
    silent.log.error('e');
    expect(silent.lines).toEqual([]);
  });

  it('adds the request id of the request a line is written for', async () => {
    const { log, parsed } = collect('debug');
    log.info('outside');
    await inRequest({ requestId: 'req-1' }, async () => {
      log.info('before');
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.info('after an await');
    });
    inRequest({ requestId: 'op-2', connectionId: 'conn-1' }, () => log.warn('an operation'));
    expect(parsed().map((l) => [l.message, l.requestId, l.connectionId])).toEqual([
      ['outside', undefined, undefined],
      ['before', 'req-1', undefined],
      ['after an await', 'req-1', undefined],
      ['an operation', 'op-2', 'conn-1'],
    ]);
  });

  it('redacts credentials in fields, nested headers, connection params and free text', () => {
    const { log, lines, parsed } = collect('debug');
    log.warn('refused', {
      authorization: `Bearer ${KEY}`,
      headers: { authorization: `Bearer ${KEY}`, 'x-api-key': KEY },
      connectionParams: { Authorization: KEY },
    });
    log.error(`could not use Bearer ${KEY}`, { reason: `key ${KEY} revoked`, token: KEY });
    expect(lines.join('\n')).not.toContain(KEY.slice(16));
    const [first, second] = parsed();
    expect(first).toMatchObject({
      authorization: '[Redacted]',
      headers: { authorization: '[Redacted]', 'x-api-key': '[Redacted]' },
      connectionParams: { Authorization: '[Redacted]' },
    });
    expect(second).toMatchObject({ message: 'could not use Bearer [Redacted]', reason: 'key [Redacted] revoked', token: '[Redacted]' });
  });
});

describe('requestIdFrom', () => {
  it('keeps a well-formed incoming id and replaces a missing or malformed one with a UUID', () => {
    expect(requestIdFrom('abc-123.X:y_z')).toBe('abc-123.X:y_z');
    expect(requestIdFrom(['first', 'second'])).toBe('first');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(requestIdFrom(undefined)).toMatch(uuid);
    expect(requestIdFrom('has space')).toMatch(uuid);
    expect(requestIdFrom('line\nbreak')).toMatch(uuid);
    expect(requestIdFrom('x'.repeat(129))).toMatch(uuid);
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
  });
});
