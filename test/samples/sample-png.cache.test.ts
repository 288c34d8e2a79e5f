import { describe, expect, it } from 'vitest';
import { SamplePngCache } from '../../src/samples/sample-png.cache';

const bytes = (n: number, fill = 1): Buffer => Buffer.alloc(n, fill);

describe('SamplePngCache', () => {
  it('keeps at most maxBytes of PNGs, dropping the least recently used first', () => {
    const cache = new SamplePngCache(100);
    cache.put('a', bytes(40), 'm@1');
    cache.put('b', bytes(40), 'm@1');
    expect(cache.get('a')?.png.length).toBe(40); // a is now the most recently used
    cache.put('c', bytes(40), 'm@1'); // 120 > 100: b goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.stats()).toEqual({ entries: 2, bytes: 80 });
    cache.put('d', bytes(100), 'm@1'); // exactly the budget: everything else goes
    expect(cache.stats()).toEqual({ entries: 1, bytes: 100 });
    expect(cache.get('d')).toBeDefined();
  });

  it('keeps its own copy of small PNGs, not a slice of a shared pool', () => {
    const cache = new SamplePngCache(1000);
    const pooled = Buffer.from('a small png');
    cache.put('a', pooled, 'm@1');
    const kept = cache.get('a')!.png;
    expect(cache.get('a')!.modelId).toBe('m@1');
    expect(kept.equals(pooled)).toBe(true);
    expect(kept.buffer.byteLength).toBe(pooled.length);
  });

  it('does not keep an entry larger than the budget, and keeps nothing at 0', () => {
    const cache = new SamplePngCache(10);
    cache.put('small', bytes(5), 'm@1');
    cache.put('big', bytes(11), 'm@1');
    expect(cache.get('big')).toBeUndefined();
    expect(cache.get('small')).toBeDefined();
    const none = new SamplePngCache(0);
    none.put('a', bytes(1), 'm@1');
    expect(none.get('a')).toBeUndefined();
    expect(none.stats()).toEqual({ entries: 0, bytes: 0 });
    expect(() => new SamplePngCache(-1)).toThrow('SamplePngCache: expected maxBytes to be an integer >= 0, got -1');
  });

  it('replaces an entry without counting it twice, and tags different bytes differently', () => {
    const cache = new SamplePngCache(100);
    cache.put('a', bytes(30, 1), 'm@1');
    const first = cache.get('a')!.etag;
    cache.put('a', bytes(30, 2), 'm@1');
    expect(cache.stats()).toEqual({ entries: 1, bytes: 30 });
    const second = cache.get('a')!.etag;
    expect(second).not.toBe(first);
    expect(first).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    cache.put('b', bytes(30, 1), 'm@1');
    expect(cache.get('b')!.etag).toBe(first);
  });
});
