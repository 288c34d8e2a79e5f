import { ErrorCode } from '../errors/error-code';
import { GanqlError, badInput, notFound } from '../errors/ganql-error';
import type { Prisma } from '../db/database';
import { hashSecret, newApiKeyToken, parseApiKeyToken, secretMatches } from './api-key-token';
import { parseScopes, type Scope } from './scopes';

/** A stored key, without its secret hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  /** Requests per second for this key; null: the server's default (GANQL_KEY_RATE_LIMIT). */
  rateLimit: number | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface CreatedApiKey {
  record: ApiKeyRecord;
  /** The whole key, shown once: only its hash is stored. */
  token: string;
}

interface CachedKey {
  record: ApiKeyRecord;
  secretHash: string;
  fetchedAt: number;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;

/**
 * API keys: created by the CLI (`npm run keys`), checked on every request. Lookups are cached for
 * `cacheTtlMs`, so a revoked key stops working on every replica within that time.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    private readonly prisma: Prisma,
    private readonly cacheTtlMs = 5000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async create(name: string, scopesText: string, rateLimit?: number): Promise<CreatedApiKey> {
    if (!NAME_PATTERN.test(name))
      throw badInput(`name: expected 1-64 letters, digits, spaces or ._@- starting with a letter or digit, got ${JSON.stringify(name)}`);
    let scopes: Scope[];
    try {
      scopes = parseScopes(scopesText, 'scopes');
    } catch (error) {
      throw badInput((error as Error).message);
    }
    if (scopes.length === 0) throw badInput('scopes: expected at least one of read, sample, train, admin, got none');
    if (rateLimit !== undefined && !(Number.isFinite(rateLimit) && rateLimit >= 0)) {
      throw badInput(`rateLimit: expected requests per second >= 0 (0 = unlimited), got ${rateLimit}`);
    }
    const key = newApiKeyToken();
    const row = await this.prisma.apiKey.create({
      data: { id: key.id, name, scopes: scopes.join(','), secretHash: hashSecret(key.secret), rateLimit: rateLimit ?? null },
    });
    return { record: toRecord(row), token: key.token };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toRecord);
  }

  async revoke(id: string): Promise<ApiKeyRecord> {
    const row = await this.prisma.apiKey.findUnique({ where: { id } });
    if (!row) throw notFound('API key', id);
    const updated = row.revokedAt ? row : await this.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    this.cache.delete(id);
    return toRecord(updated);
  }

  /** The key a request presents, or UNAUTHENTICATED saying why (never which part matched). */
  async authenticate(token: string): Promise<ApiKeyRecord> {
    const parsed = parseApiKeyToken(token);
    if (!parsed) throw new GanqlError(ErrorCode.UNAUTHENTICATED, 'malformed API key: expected "gq_<id>_<secret>" as created by `npm run keys -- create`');
    const found = await this.lookup(parsed.id);
    if (!found || !secretMatches(parsed.secret, found.secretHash)) throw new GanqlError(ErrorCode.UNAUTHENTICATED, 'unknown API key');
    if (found.record.revokedAt) throw new GanqlError(ErrorCode.UNAUTHENTICATED, 'API key revoked');
    return found.record;
  }

  private async lookup(id: string): Promise<CachedKey | undefined> {
    const now = this.now();
    const cached = this.cache.get(id);
    if (cached && now - cached.fetchedAt < this.cacheTtlMs) return cached;
    const row = await this.prisma.apiKey.findUnique({ where: { id } });
    if (!row) {
      this.cache.delete(id);
      return undefined;
    }
    const entry = { record: toRecord(row), secretHash: row.secretHash, fetchedAt: now };
    // Bounded: one entry per key that exists, and keys are created by an operator.
    this.cache.set(id, entry);
    return entry;
  }
}

function toRecord(row: { id: string; name: string; scopes: string; rateLimit: number | null; createdAt: Date; revokedAt: Date | null }): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    scopes: parseScopes(row.scopes, `API key ${row.id}`),
    rateLimit: row.rateLimit,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  };
}
