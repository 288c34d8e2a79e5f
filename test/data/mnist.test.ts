import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist';

describe('loadMnist', () => {
  const all = loadMnist();

  it('loads the 10,000 digits of the mnist package as 28x28 floats in [-1, 1]', () => {
    expect(all.count).toBe(10000);
    expect(all.images.length).toBe(10000 * 28 * 28);
    expect(all.labels.length).toBe(10000);
    let min = Infinity;
    let max = -Infinity;
    for (const v of all.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(-1);
    expect(max).toBe(1);
    // Background dominates a digit: most pixels sit at -1.
    const first = all.images.subarray(0, 784);
    expect(first.filter((v) => v === -1).length).toBeGreaterThan(784 / 2);
    const counts = new Array(10).fill(0);
    all.labels.forEach((l) => counts[l]++);
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  it('splits deterministically into disjoint train and test parts', () => {
    const train = loadMnist({ split: 'train', seed: 3 });
    const test = loadMnist({ split: 'test', seed: 3 });
    expect(train.count).toBe(9000);
    expect(test.count).toBe(1000);
    const key = (d: { images: Float32Array }, i: number): string => d.images.subarray(i * 784, (i + 1) * 784).join();
    const trainKeys = new Set(Array.from({ length: 500 }, (_, i) => key(train, i)));
    for (let i = 0; i < 200; i++) expect(trainKeys.has(key(test, i))).toBe(false);
    const again = loadMnist({ split: 'test', seed: 3 });
    expect(Array.from(again.labels)).toEqual(Array.from(test.labels));
    const other = loadMnist({ split: 'test', seed: 4 });
    expect(Array.from(other.labels)).not.toEqual(Array.from(test.labels));
  });

  it('honours limit and validates options', () => {
    const few = loadMnist({ split: 'train', limit: 10 });
    expect(few.count).toBe(10);
    expect(few.images.length).toBe(7840);
    expect(() => loadMnist({ limit: 0 })).toThrow('Expected limit to be a positive integer, got 0');
    expect(() => loadMnist({ testFraction: 1 })).toThrow('Expected testFraction in [0, 1), got 1');
  });
});
