import type { Database } from '../db/database';
import type { KeyRateLimiter, RateDecision, RateLimit } from './rate-limiter';

/**
 * One atomic statement per request (GCRA, the generic cell rate algorithm: a token bucket kept as one
 * number). A key's row holds its theoretical arrival time `tat`; a request at `now` is allowed when
 * max(tat, now) + T <= now + B, T = 1 / rate and B = burst x T, and then moves tat there. The clock is
 * the database's, so replicas on different hosts agree. A new key is inserted allowed. The row is
 * read back from the statement's snapshot only to tell a refused request when to retry.
 */
const TAKE = `WITH clock AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now),
granted AS (
  INSERT INTO "RateLimit" AS r ("key", "tat") SELECT $1, clock.now + $2 FROM clock
  ON CONFLICT ("key") DO UPDATE SET "tat" = GREATEST(r."tat", EXCLUDED."tat" - $2) + $2
  WHERE GREATEST(r."tat", EXCLUDED."tat" - $2) + $2 <= EXCLUDED."tat" - $2 + $3
  RETURNING "tat"
)
SELECT EXISTS (SELECT 1 FROM granted) AS "allowed", (SELECT "tat" FROM "RateLimit" WHERE "key" = $1) AS "tat", (SELECT now FROM clock) AS "now"`;

/**
 * API keys' rate limits counted in PostgreSQL, so that all replicas sharing the database share each
 * key's limit (the in-memory RateLimiter counts per process). The same bucket as RateLimiter:
 * `ratePerSecond` sustained, `burst` at once after a quiet spell. One round trip per keyed request
 * (bench/shared-state.ts measures it).
 */
export class DatabaseRateLimiter implements KeyRateLimiter {
  constructor(private readonly db: Database) {
    if (db.provider !== 'postgresql') throw new Error(`DatabaseRateLimiter: expected a PostgreSQL database, got ${db.provider} (use RateLimiter)`);
  }

  async take(key: string, limit: RateLimit): Promise<RateDecision> {
    if (limit.ratePerSecond <= 0) return { allowed: true };
    const interval = 1 / limit.ratePerSecond;
    const tolerance = limit.burst * interval;
    const [row] = await this.db.query<{ allowed: boolean; tat: number | null; now: number }>(TAKE, [key, interval, tolerance]);
    if (row.allowed) return { allowed: true };
    // Allowed again once max(tat, t) + T <= t + B, i.e. at t = tat + T - B.
    const wait = (row.tat ?? row.now) + interval - tolerance - row.now;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
  }
}
