/**
 * Token buckets, one per caller (an API key id): `ratePerSecond` tokens flow in, up to `burst`;
 * each request takes one.
 */
export interface RateLimit {
  /** Sustained requests per second; 0 turns the limit off. */
  ratePerSecond: number;
  /** Requests allowed at once after a quiet spell. */
  burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Takes one token from a key's bucket: RateLimiter in memory (one process), DatabaseRateLimiter shared by replicas. */
export interface KeyRateLimiter {
  take(key: string, limit: RateLimit): RateDecision | Promise<RateDecision>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets idle this long are full again, so they are dropped to bound memory. */
const IDLE_DROP_MS = 10 * 60_000;

/** In memory, so each process counts its own requests: the limiter for SQLite, where there is one process. */
export class RateLimiter implements KeyRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one token from `key`'s bucket under `limit`. */
  take(key: string, limit: RateLimit): RateDecision {
    if (limit.ratePerSecond <= 0) return { allowed: true };
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, updatedAt: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.ratePerSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.ratePerSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < IDLE_DROP_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedAt > IDLE_DROP_MS) this.buckets.delete(key);
  }
}
