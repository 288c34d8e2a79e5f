import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the OS in blocks: one call per 409 ids instead of one per id. */
const POOL_BYTES = 4096;
const RANDOM_BYTES = 10;

/**
 * UUIDv7 (RFC 9562): a 48-bit millisecond timestamp, then a 12-bit counter, then random bits.
 * Ids sort in creation order, strictly within this process even inside one millisecond, so
 * "newest first" listings are stable where createdAt ties, and a table keyed by them grows at the end
 * of its index (one page touched per commit) rather than at random places (a page per row).
 */
export function createUuidV7Generator(now: () => number = Date.now): () => string {
  let lastMs = -1;
  let counter = 0;
  const pool = Buffer.alloc(POOL_BYTES);
  let used = POOL_BYTES;
  const bytes = Buffer.alloc(16);
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      counter += 1;
      // 12-bit counter exhausted within one millisecond: borrow the next millisecond.
      if (counter > 0xfff) {
        lastMs += 1;
        counter = 0;
      }
      ms = lastMs;
    } else {
      lastMs = ms;
      counter = 0;
    }
    if (used + RANDOM_BYTES > POOL_BYTES) {
      randomFillSync(pool);
      used = 0;
    }
    pool.copy(bytes, 6, used, used + RANDOM_BYTES);
    used += RANDOM_BYTES;
    bytes.writeUIntBE(ms, 0, 6);
    bytes[6] = 0x70 | (counter >> 8);
    bytes[7] = counter & 0xff;
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
