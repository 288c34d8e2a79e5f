import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readKPlusOne } from '../../src/classify/k-plus-one-reading';
import { initBackend } from '../../src/backend/backend';
import { kPlusOneProbabilities } from '../../src/training/k-plus-one';

describe('readKPlusOne', () => {
  it('matches hand-computed values: logits [ln 2, 0, ln 5] with the generated logit 0', () => {
    // exp: 2, 1, 5 and 1 for "generated": Z + 1 = 9.
    const r = readKPlusOne([Math.log(2), 0, Math.log(5)]);
    expect(r.labelIndex).toBe(2);
    expect(r.probabilities[0]).toBeCloseTo(2 / 9, 12);
    expect(r.probabilities[1]).toBeCloseTo(1 / 9, 12);
    expect(r.probabilities[2]).toBeCloseTo(5 / 9, 12);
    expect(r.generatedProbability).toBeCloseTo(1 / 9, 12);
    // Among the K = 3 classes only: 5 / 8.
    expect(r.confidence).toBeCloseTo(5 / 8, 12);
  });

  it('takes the first of tied logits and stays exact for very large and very negative logits', () => {
    expect(readKPlusOne([1, 3, 3]).labelIndex).toBe(1);
    const large = readKPlusOne([1000, 999]);
    expect(large.probabilities[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(large.generatedProbability).toBe(0);
    // Every class far below "generated": p(generated) ~ 1, but the confidence among the classes is still 1 / (1 + e^-1).
    const negative = readKPlusOne([-1000, -1001]);
    expect(negative.generatedProbability).toBe(1);
    expect(negative.confidence).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(() => readKPlusOne([0, Number.NaN])).toThrow('readKPlusOne: expected finite logits, got NaN at 1');
  });

  it('agrees with kPlusOneProbabilities (the training definition) within float32 precision', async () => {
    await initBackend({ order: ['wasm'] });
    const rows = [
      [0.3, -2, 4.1, 0],
      [-3, -4, -5, -2.5],
      [8, 8.5, -1, 2],
    ];
    const before = tf.memory().numTensors;
    const expected = tf.tidy(() => kPlusOneProbabilities(tf.tensor2d(rows)).arraySync());
    expect(tf.memory().numTensors).toBe(before);
    rows.forEach((row, i) => {
      const r = readKPlusOne(row);
      [...r.probabilities, r.generatedProbability].forEach((p, k) => expect(Math.abs(p - expected[i][k])).toBeLessThan(1e-6));
      expect(r.probabilities.reduce((a, b) => a + b, 0) + r.generatedProbability).toBeCloseTo(1, 12);
    });
  });
});
