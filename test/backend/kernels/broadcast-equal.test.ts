import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { seededNormal } from '../../helpers/compare';

/**
 * ganql's broadcasting Equal on wasm against the cpu backend, exactly: a maxout gradient's mask
 * ([100, 5, 240] vs its max [100, 1, 240]), a broadcast on either side and on several axes, ranks 1-4,
 * and equal shapes (wasm's own kernel). Values repeat so that both outcomes occur.
 */
const cases: [number[], number[]][] = [
  [
    [100, 5, 240],
    [100, 1, 240],
  ],
  [[7], [1]],
  [
    [1, 6],
    [5, 1],
  ],
  [
    [2, 1, 3, 4],
    [3, 1],
  ],
  [
    [4, 3],
    [4, 3],
  ],
];

/** Values 0 or 1: equal pairs are common. */
const rounded = (shape: number[], seed: number): Float32Array => seededNormal(shape, seed).map((v) => (v > 0 ? 1 : 0));

describe('broadcasting Equal on wasm vs cpu', () => {
  const data = cases.map(([a, b], i) => [rounded(a, 700 + i), rounded(b, 800 + i)]);
  const reference: Uint8Array[] = [];
  const equalOf = ([a, b]: [number[], number[]], [av, bv]: Float32Array[]) => {
    const out = tf.tidy(() => tf.equal(tf.tensor(av, a), tf.tensor(bv, b)));
    const values = out.dataSync() as Uint8Array;
    out.dispose();
    return values;
  };

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => reference.push(equalOf(c, data[i])));
    await initBackend({ order: ['wasm'] });
  });

  cases.forEach((c, i) => {
    it(`${JSON.stringify(c[0])} vs ${JSON.stringify(c[1])}`, () => {
      const got = equalOf(c, data[i]);
      expect(Array.from(got)).toEqual(Array.from(reference[i]));
      // Both outcomes occur, so a kernel answering one value everywhere fails.
      expect(new Set(got).size).toBe(2);
    });
  });

  it("the max gradient (tfjs's, through the mask) has one 1 per maximum", () => {
    const x = seededNormal([100, 5, 240], 11);
    const grad = (): Float32Array => {
      const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.max(t, 1).sum())(tf.tensor3d(x, [100, 5, 240])));
      const values = g.dataSync() as Float32Array;
      g.dispose();
      return values;
    };
    const wasm = grad();
    expect(wasm.reduce((a, b) => a + b, 0)).toBe(100 * 240);
  });
});
