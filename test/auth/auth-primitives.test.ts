import { describe, expect, it } from 'vitest';
import { hashSecret, newApiKeyToken, parseApiKeyToken, secretMatches } from '../../src/auth/api-key-token';
import { RateLimiter } from '../../src/auth/rate-limiter';
import { grants, parseScopes } from '../../src/auth/scopes';

describe('API key tokens', () => {
  it('round-trips a new key and matches only its own secret', () => {
    const key = newApiKeyToken();
    expect(key.token).toMatch(/^gq_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKeyToken(key.token)).toEqual({ id: key.id, secret: key.secret });
    const stored = hashSecret(key.secret);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(key.secret);
    expect(secretMatches(key.secret, stored)).toBe(true);
    expect(secretMatches(newApiKeyToken().secret, stored)).toBe(false);
    expect(secretMatches(key.secret, 'abcd')).toBe(false);
  });

  it('refuses strings not shaped like a key', () => {
    const key = newApiKeyToken();
    for (const bad of ['', 'gq_', key.token.slice(0, -1), `${key.token}x`, key.token.replace('gq_', 'xx_'), `Bearer ${key.token}`]) {
      expect(parseApiKeyToken(bad)).toBeNull();
    }
  });

  it('makes distinct keys', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newApiKeyToken().id));
    expect(ids.size).toBe(50);
  });
});

describe('scopes', () => {
  it('parses a comma list, ignoring case, blanks and repeats', () => {
    expect(parseScopes(' Read, sample,,read ', 'x')).toEqual(['read', 'sample']);
    expect(parseScopes('', 'x')).toEqual([]);
    expect(() => parseScopes('read,write', '--scopes')).toThrow('--scopes: expected scopes from read, sample, train, admin separated by commas, got "write"');
  });

  it('admin grants every scope, others only themselves', () => {
    expect(grants(['admin'], 'train')).toBe(true);
    expect(grants(['read'], 'read')).toBe(true);
    expect(grants(['read'], 'sample')).toBe(false);
    expect(grants([], 'read')).toBe(false);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refuses with the wait, then refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limit = { ratePerSecond: 2, burst: 3 };
    expect([1, 2, 3].map(() => limiter.take('k', limit).allowed)).toEqual([true, true, true]);
    expect(limiter.take('k', limit)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500; // one token back at 2/s
    expect(limiter.take('k', limit).allowed).toBe(true);
    expect(limiter.take('k', limit).allowed).toBe(false);
    // Other callers have their own bucket.
    expect(limiter.take('other', limit).allowed).toBe(true);
  });

  it('never holds more than the burst and is off at rate 0', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limit = { ratePerSecond: 10, burst: 2 };
    now += 60_000;
    expect([1, 2, 3].map(() => limiter.take('k', limit).allowed)).toEqual([true, true, false]);
    expect(Array.from({ length: 100 }, () => limiter.take('z', { ratePerSecond: 0, burst: 0 }).allowed).every(Boolean)).toBe(true);
  });
});
