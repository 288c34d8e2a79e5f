import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key as the client sends it: "gq_<id>_<secret>". The id (public, 12 hex characters) finds
 * the stored row; only the SHA-256 of the secret (32 random bytes, base64url) is stored. A fast hash
 * is enough here because the secret is random, not a password (as GitHub's and Stripe's tokens).
 */
const PREFIX = 'gq_';
const TOKEN_PATTERN = /^gq_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyToken {
  id: string;
  secret: string;
  /** The whole key, shown once to whoever creates it. */
  token: string;
}

export function newApiKeyToken(): ApiKeyToken {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${PREFIX}${id}_${secret}` };
}

/** Splits a presented key, or returns null when it is not shaped like one. */
export function parseApiKeyToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { id: match[1], secret: match[2] } : null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
