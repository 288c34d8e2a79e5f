import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';

describe('Identity on wasm shares data', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('a clone keeps its values after the original is disposed, and frees the data last', () => {
    const dataIds = tf.backend().numDataIds();
    const x = tf.tensor2d([1, -2, 3, 4.5], [2, 2]);
    const y = tf.clone(x);
    // One buffer for both.
    expect(tf.backend().numDataIds()).toBe(dataIds + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3, 4.5]);
    expect(y.shape).toEqual([2, 2]);
    y.dispose();
    expect(tf.backend().numDataIds()).toBe(dataIds);
  });

  it('a variable assigned a clone is not changed by writes to the source variable', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const b = tf.variable(tf.clone(a));
    a.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(a.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([a, b]);
  });
});
