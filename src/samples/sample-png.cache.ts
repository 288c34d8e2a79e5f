import { createHash } from 'node:crypto';

/** A sample's encoded image as GET /images serves it. */
export interface SamplePng {
  png: Buffer;
  /**
   * A strong HTTP entity tag: the quoted base64url of the first 16 bytes of the PNG's SHA-256. A hash
   * of the bytes rather than of (model version, latent, backend), so it is right by construction: the
   * tag changes exactly when the bytes do, even if a regeneration on another backend differed.
   */
  etag: string;
}

/** A cached PNG with the model version that made it (so the images of an archived version are not served from memory). */
export type CachedPng = SamplePng & { modelId: string };

export function samplePng(png: Buffer): SamplePng {
  return { png, etag: `"${createHash('sha256').update(png).digest().subarray(0, 16).toString('base64url')}"` };
}

/**
 * Encoded sample PNGs by sample id, at most `maxBytes` of PNG bytes in all; the least recently used
 * go first. A sample's bytes never change, so an entry never goes stale. 0 keeps nothing.
 */
export class SamplePngCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  // The tag is hashed on the first get: most images put here are never fetched by URL.
  private readonly entries = new Map<string, { png: Buffer; modelId: string; etag?: string }>();
  private totalBytes = 0;

  constructor(readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new Error(`SamplePngCache: expected maxBytes to be an integer >= 0, got ${maxBytes}`);
  }

  get(id: string): CachedPng | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    entry.etag ??= samplePng(entry.png).etag;
    return { png: entry.png, modelId: entry.modelId, etag: entry.etag };
  }

  /** Keeps `png` as the image of sample `id` of model `modelId` (unless it alone is over the budget), dropping the least recently used beyond it. */
  put(id: string, png: Buffer, modelId: string): void {
    if (png.length > this.maxBytes) return;
    const previous = this.entries.get(id);
    if (previous !== undefined) {
      this.entries.delete(id);
      this.totalBytes -= previous.png.length;
    }
    // A small Buffer is usually a slice of Node's shared 8 KiB pool, which it would keep alive: an own copy keeps the byte count true.
    const own = Buffer.allocUnsafeSlow(png.length);
    png.copy(own);
    this.entries.set(id, { png: own, modelId });
    this.totalBytes += png.length;
    for (const [oldest, { png: bytes }] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.totalBytes -= bytes.length;
    }
  }

  /** Entries and PNG bytes held now. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.totalBytes };
  }
}
