import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { discriminatorLoss, smoothedTargets } from '../../../src/training/techniques/label-smoothing';

const softplus = (x: number): number => Math.log(1 + Math.exp(x));
/** Sigmoid cross-entropy of target t at logit x: -t log s(x) - (1-t) log(1-s(x)) = softplus(x) - t x. */
const ce = (t: number, x: number): number => softplus(x) - t * x;

describe('one-sided label smoothing', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('smooths only the real targets', () => {
    const before = tf.memory().numTensors;
    const [real, fake] = tf.tidy(() => {
      const logits = tf.tensor2d([[0.5], [-1]]);
      return [smoothedTargets(logits, true, 0.9).dataSync(), smoothedTargets(logits, false, 0.9).dataSync()];
    });
    expect(Array.from(real)).toEqual([Math.fround(0.9), Math.fround(0.9)]);
    expect(Array.from(fake)).toEqual([0, 0]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('equals the hand-computed loss on two real and two fake logits; the change is the real term only', () => {
    const before = tf.memory().numTensors;
    const [smoothed, plain, otherFake] = tf.tidy(() => {
      const real = tf.tensor2d([[0.5], [-1]]);
      const fake = tf.tensor2d([[0.2], [-0.3]]);
      return [
        discriminatorLoss(real, fake, 0.9).dataSync()[0],
        discriminatorLoss(real, fake, 1).dataSync()[0],
        discriminatorLoss(real, tf.tensor2d([[3], [1]]), 0.9).dataSync()[0] - discriminatorLoss(real, tf.tensor2d([[3], [1]]), 1).dataSync()[0],
      ];
    });
    const hand = (ce(0.9, 0.5) + ce(0.9, -1)) / 2 + (ce(0, 0.2) + ce(0, -0.3)) / 2;
    expect(hand).toBeCloseTo(1.544916, 5);
    expect(smoothed).toBeCloseTo(hand, 5);
    // softplus(x) - t x: lowering t from 1 to 0.9 adds 0.1 * mean(real logits) = 0.1 * -0.25, whatever the fakes.
    expect(smoothed - plain).toBeCloseTo(-0.025, 5);
    expect(otherFake).toBeCloseTo(-0.025, 5);
    expect(tf.memory().numTensors).toBe(before);
    const zero = tf.zeros([1, 1]);
    expect(() => discriminatorLoss(zero, zero, 1.5)).toThrow('labelSmoothing: expected a real target in (0, 1], got 1.5');
    zero.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
