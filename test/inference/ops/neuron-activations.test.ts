import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { neuronActivations } from '../../../src/inference/ops/neuron-activations';

describe('neuronActivations', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('passes a dense output [n, units] through unchanged', () => {
    const before = tf.memory().numTensors;
    const values = tf.tidy(() =>
      neuronActivations(
        tf.tensor2d([
          [1, -2, 3],
          [0.5, 0, -1],
        ]),
      ).arraySync(),
    );
    expect(values).toEqual([
      [1, -2, 3],
      [0.5, 0, -1],
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes the spatial maximum of each feature map of a conv output [n, h, w, c]', () => {
    // Image 0: channel 0 = [[1, 5], [-3, 2]] -> 5; channel 1 = [[-1, -7], [-2, -4]] -> -1.
    // Image 1: channel 0 = [[0, 0], [9, 0]] -> 9; channel 1 = [[3, 3], [3, 8]] -> 8.
    const ch0 = [
      [
        [1, 5],
        [-3, 2],
      ],
      [
        [0, 0],
        [9, 0],
      ],
    ];
    const ch1 = [
      [
        [-1, -7],
        [-2, -4],
      ],
      [
        [3, 3],
        [3, 8],
      ],
    ];
    const data = ch0.map((img, n) => img.map((row, y) => row.map((v, x) => [v, ch1[n][y][x]])));
    const before = tf.memory().numTensors;
    const values = tf.tidy(() => neuronActivations(tf.tensor4d(data)).arraySync());
    expect(values).toEqual([
      [5, -1],
      [9, 8],
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses other ranks', () => {
    expect(() => tf.tidy(() => neuronActivations(tf.zeros([2, 3, 4])))).toThrow(/expected a layer output of rank 2 .* got shape \[2, 3, 4\]/);
  });
});
