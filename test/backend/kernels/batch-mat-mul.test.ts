import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { relativeDiff, seededNormal } from '../../helpers/compare';

/**
 * ganql's wasm BatchMatMul and _FusedMatMul (transpose flags applied as explicit transposes) against
 * the cpu backend, every flag combination, within 1e-5 of the largest product (float32 sums of up
 * to a few thousand terms, in a different order).
 */
interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const shapes: { a: number[]; b: number[] }[] = [
  // [m, k] x [k, n] before transposing.
  { a: [1, 1], b: [1, 1] },
  { a: [64, 100], b: [100, 3136] },
  { a: [7, 3], b: [3, 5] },
  { a: [64, 1], b: [1, 3136] },
  // Batched, and batch-broadcast.
  { a: [3, 5, 4], b: [3, 4, 6] },
  { a: [2, 5, 4], b: [1, 4, 6] },
];

const cases: Case[] = shapes.flatMap(({ a, b }) =>
  [false, true].flatMap((transposeA) =>
    [false, true].map((transposeB) => {
      const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
      return { a: swap(a, transposeA), b: swap(b, transposeB), transposeA, transposeB };
    }),
  ),
);

const TOLERANCE = 1e-5;

function products(c: Case, a: Float32Array, b: Float32Array, bias: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const at = tf.tensor(a, c.a);
    const bt = tf.tensor(b, c.b);
    const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
    const plain = tf.matMul(at, bt, c.transposeA, c.transposeB);
    // wasm's own _FusedMatMul adds the bias wrongly on batched operands (as before ganql's wrapper): 2-D only.
    if (c.a.length > 2) return [plain.dataSync() as Float32Array];
    const fused = tf.fused.matMul({
      a: at,
      b: bt,
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      bias: tf.tensor1d(bias.subarray(0, n)),
      activation: 'relu',
    });
    return [plain.dataSync() as Float32Array, fused.dataSync() as Float32Array];
  });
}

describe('matMul with transpose flags on wasm vs cpu', () => {
  const data = cases.map((c, i) => ({ a: seededNormal(c.a, 200 + i), b: seededNormal(c.b, 300 + i), bias: seededNormal([4096], 400 + i) }));
  const reference: Float32Array[][] = [];

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => reference.push(products(c, data[i].a, data[i].b, data[i].bias)));
    await initBackend({ order: ['wasm'] });
  });

  cases.forEach((c, i) => {
    it(`matches on a [${c.a}] b [${c.b}] transposeA ${c.transposeA} transposeB ${c.transposeB}`, () => {
      const before = tf.memory().numTensors;
      const dataIds = tf.backend().numDataIds();
      const got = products(c, data[i].a, data[i].b, data[i].bias);
      expect(got.length).toBe(reference[i].length);
      got.forEach((product, j) => expect(relativeDiff(product, reference[i][j])).toBeLessThanOrEqual(TOLERANCE));
      expect(tf.memory().numTensors).toBe(before);
      // The transposed copies are freed.
      expect(tf.backend().numDataIds()).toBe(dataIds);
    });
  });
});
