import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';

/**
 * ganql's wasm LeakyRelu and its gradient against tfjs on the cpu backend. The gradient is the same
 * float32 product bit for bit; the forward pass within one float32 rounding (cpu multiplies by alpha
 * in float64, wasm by alpha rounded to float32, as wasm's own kernel does).
 */
const cases: { shape: number[]; alpha: number }[] = [
  { shape: [1, 1], alpha: 0.2 },
  { shape: [3, 5, 7], alpha: 0.2 },
  { shape: [64, 14, 14, 32], alpha: 0.2 },
  { shape: [2, 9], alpha: 0 },
  { shape: [4, 3, 3, 2], alpha: 0.01 },
];

function inputs(shape: number[], seed: number): { x: Float32Array; dy: Float32Array } {
  const x = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
  // Exact zeros and negative zeros: the boundary where the slope switches.
  for (let i = 0; i < x.length; i += 7) x[i] = i % 2 === 0 ? 0 : -0;
  const dy = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed + 1).dataSync() as Float32Array);
  return { x, dy };
}

function run(shape: number[], alpha: number, v: { x: Float32Array; dy: Float32Array }): { y: Float32Array; dx: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor(v.x, shape);
    const dy = tf.tensor(v.dy, shape);
    const y = tf.leakyRelu(x, alpha).dataSync() as Float32Array;
    const dx = tf
      .grad((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, alpha), dy)))(x)
      .dataSync() as Float32Array;
    return { y, dx };
  });
}

describe('LeakyRelu and its gradient on wasm vs tfjs on cpu', () => {
  const data = cases.map((c, i) => inputs(c.shape, 100 + i));
  const reference: { y: Float32Array; dx: Float32Array }[] = [];

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => reference.push(run(c.shape, c.alpha, data[i])));
    await initBackend({ order: ['wasm'] });
  });

  cases.forEach((c, i) => {
    it(`matches on [${c.shape}] alpha ${c.alpha}`, () => {
      const before = tf.memory().numTensors;
      const got = run(c.shape, c.alpha, data[i]);
      let worst = 0;
      got.y.forEach((y, j) => {
        worst = Math.max(worst, Math.abs(y - reference[i].y[j]) / Math.max(Math.abs(reference[i].y[j]), 1e-30));
      });
      expect(worst).toBeLessThanOrEqual(2 ** -23);
      expect(Array.from(got.dx)).toEqual(Array.from(reference[i].dx));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('runs ganql kernels on wasm, not Greater/Select', async () => {
    const info = await tf.profile(() => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.leakyRelu(a, 0.2)))(tf.ones([3, 3]))));
    tf.dispose(info.result);
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain('GanqlLeakyReluGrad');
    expect(names).not.toContain('Select');
  });
});
