import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { BYTE_RANGE, mapPixel, mapPixels, mapPixelTensor, pixelMapper, SIGNED_RANGE, UNIT_RANGE } from '../../src/images/pixel-range';

describe('mapPixels', () => {
  it('maps 0..255 linearly onto a classifier range', () => {
    expect(Array.from(mapPixels(Float32Array.of(0, 127.5, 255), BYTE_RANGE, [-1, 1]))).toEqual([-1, 0, 1]);
    expect(Array.from(mapPixels(Float32Array.of(0, 51, 255), BYTE_RANGE, [0, 1]))).toEqual([0, Math.fround(0.2), 1]);
  });

  it('maps [-1, 1] <-> [0, 1] <-> [0, 255] with the ends exact', () => {
    expect(Array.from(mapPixels([-1, -0.5, 0, 1], SIGNED_RANGE, UNIT_RANGE))).toEqual([0, 0.25, 0.5, 1]);
    expect(Array.from(mapPixels([0, 0.25, 1], UNIT_RANGE, SIGNED_RANGE))).toEqual([-1, -0.5, 1]);
    expect(Array.from(mapPixels([0, 255], BYTE_RANGE, SIGNED_RANGE))).toEqual([-1, 1]);
    expect(Array.from(mapPixels([-1, 0, 1], SIGNED_RANGE, BYTE_RANGE))).toEqual([0, 127.5, 255]);
    // A range that is not symmetric: [2, 6] -> [-1, 1]: 3 is a quarter of the way.
    expect(Array.from(mapPixels([2, 3, 6], [2, 6], SIGNED_RANGE))).toEqual([-1, -0.5, 1]);
  });

  it('copies values unchanged between equal ranges, into the given output', () => {
    const tiny = Math.fround(1e-30);
    const out = new Float32Array(5).fill(9);
    const result = mapPixels([tiny, -1, 0.3, 1], SIGNED_RANGE, [-1, 1], out.subarray(1));
    expect(result.buffer).toBe(out.buffer);
    expect(Array.from(out)).toEqual([9, tiny, -1, Math.fround(0.3), 1]);
  });

  it('refuses an output of another length', () => {
    expect(() => mapPixels([1, 2], UNIT_RANGE, SIGNED_RANGE, new Float32Array(3))).toThrow('mapPixels: expected an output of 2 values, got 3');
  });

  it('maps one value alike', () => {
    expect(mapPixel(0.75, UNIT_RANGE, BYTE_RANGE)).toBe(191.25);
    expect(pixelMapper(SIGNED_RANGE, UNIT_RANGE)(0.5)).toBe(0.75);
  });
});

describe('mapPixelTensor', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('maps a batch tensor, and returns an equal-range input as it is', () => {
    const before = tf.memory().numTensors;
    const values = tf.tidy(() => mapPixelTensor(tf.tensor1d([0, 127.5, 255]), BYTE_RANGE, SIGNED_RANGE).arraySync());
    expect(values).toEqual([-1, 0, 1]);
    const x = tf.tensor1d([0.5]);
    expect(mapPixelTensor(x, UNIT_RANGE, [0, 1])).toBe(x);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
