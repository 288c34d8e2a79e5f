import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { gaussianStats } from '../../src/evaluation/fid';
import { float32FromBytes, float32ToBytes, float64FromBytes, float64ToBytes, ReferenceStatsStore } from '../../src/evaluation/reference-stats.store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-refstats-'));
let db: Database;

beforeAll(async () => {
  db = openDatabase(`file:${path.join(dir, 'r.db')}`);
  await db.migrate();
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('byte codecs', () => {
  it('round-trip float64 and float32 exactly, little-endian', () => {
    const values = [0, -0.5, 1 / 3, 1e-300, -1.7976931348623157e308];
    expect(Array.from(float64FromBytes(float64ToBytes(values), 5))).toEqual(values);
    expect(Array.from(float64ToBytes([1]))).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    const f32 = Float32Array.from([0.1, -2.5, 3e38]);
    expect(float32FromBytes(float32ToBytes(f32), 3)).toEqual(f32);
    expect(() => float64FromBytes(new Uint8Array(12), 2)).toThrow('float64FromBytes: expected 16 bytes (2 values), got 12');
  });
});

describe('ReferenceStatsStore', () => {
  const features = { data: Float64Array.from([1, 2, 3, 5, 4, 1, 0.5, 0.25, 2]), rows: 3, cols: 3 };
  const key = { scorer: 's', scorerDigest: 'aaa', dataset: 'mnist', split: 'train' };

  it('stores mean, covariance and features, gives them back exactly for the same scorer version only, and replaces them', async () => {
    const store = new ReferenceStatsStore(db.prisma);
    expect(await store.get(key)).toBeUndefined();
    const stats = gaussianStats(features);
    await store.put(key, { stats, features });
    const back = (await store.get(key))!;
    expect(back.stats).toEqual(stats);
    expect(Array.from(back.features.data)).toEqual(Array.from(features.data, (v) => Math.fround(v)));
    expect(back.features).toMatchObject({ rows: 3, cols: 3 });
    // A retrained scorer (another digest) must not read stale statistics.
    expect(await store.get({ ...key, scorerDigest: 'bbb' })).toBeUndefined();
    await store.put({ ...key, scorerDigest: 'bbb' }, { stats: { ...stats, count: 99 }, features });
    expect((await store.get({ ...key, scorerDigest: 'bbb' }))!.stats.count).toBe(99);
    expect(await db.prisma.referenceStats.count()).toBe(1);
  });
});
