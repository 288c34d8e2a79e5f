import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { generatedLoss, kPlusOneDiscriminatorLoss, kPlusOneProbabilities, supervisedLoss, unlabelledRealLoss } from '../../src/training/k-plus-one';

// logits of two examples over K = 2 classes; labels [1, 0].
const L = [
  [1, 2],
  [0, 0],
];
const Z = L.map((row) => row.reduce((s, v) => s + Math.exp(v), 0)); // [e + e^2, 2]
const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

describe('K+1 semi-supervised losses', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('match hand-computed values on tiny logits', () => {
    const before = tf.memory().numTensors;
    const [sup, real, gen, parts, probs] = tf.tidy(() => {
      const logits = tf.tensor2d(L);
      const labels = tf.tensor1d([1, 0], 'int32');
      const all = kPlusOneDiscriminatorLoss({ logits, labels }, logits, logits, 0.5);
      return [
        supervisedLoss(logits, labels).dataSync()[0],
        unlabelledRealLoss(logits).dataSync()[0],
        generatedLoss(logits).dataSync()[0],
        [all.supervised, all.unsupervised, all.total].map((t) => t.dataSync()[0]),
        kPlusOneProbabilities(logits).arraySync(),
      ];
    });
    // -log softmax(l)_y = log Z - l_y
    const handSup = mean([Math.log(Z[0]) - 2, Math.log(Z[1]) - 0]);
    // -log(Z / (Z + 1))
    const handReal = mean(Z.map((z) => -Math.log(z / (z + 1))));
    // -log p(K+1) = -log(1 / (Z + 1))
    const handGen = mean(Z.map((z) => Math.log(z + 1)));
    expect(handSup).toBeCloseTo(0.503204, 5);
    expect(handReal).toBeCloseTo(0.249906, 5);
    expect(handGen).toBeCloseTo(1.753109, 5);
    expect(sup).toBeCloseTo(handSup, 5);
    expect(real).toBeCloseTo(handReal, 5);
    expect(gen).toBeCloseTo(handGen, 5);
    expect(parts[0]).toBeCloseTo(handSup, 5);
    expect(parts[1]).toBeCloseTo(handReal + handGen, 5);
    expect(parts[2]).toBeCloseTo(handSup + 0.5 * (handReal + handGen), 5);
    // K+1 probabilities: exp(l_k) / (Z + 1), then 1 / (Z + 1).
    expect(probs[1]).toEqual([1 / 3, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 6)));
    expect(probs[0][2]).toBeCloseTo(1 / (Z[0] + 1), 6);
    expect(probs[0][1]).toBeCloseTo(Math.exp(2) / (Z[0] + 1), 6);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stay finite and exact for large logits (logsumexp / softplus)', () => {
    const [sup, real, gen, realSmall, genSmall] = tf.tidy(() => {
      const big = tf.tensor2d([
        [1000, 0],
        [0, 1000],
      ]);
      const small = tf.tensor2d([[-1000, -1000]]);
      return [
        supervisedLoss(big, tf.tensor1d([0, 0], 'int32')).dataSync()[0],
        unlabelledRealLoss(big).dataSync()[0],
        generatedLoss(big).dataSync()[0],
        unlabelledRealLoss(small).dataSync()[0],
        generatedLoss(small).dataSync()[0],
      ];
    });
    // row 2 has label 0 but logit 1000 on class 1: loss 1000; mean (0 + 1000) / 2.
    expect(sup).toBeCloseTo(500, 3);
    expect(real).toBeCloseTo(0, 6);
    expect(gen).toBeCloseTo(1000, 3);
    // Z = 2 e^-1000: -log(Z/(Z+1)) ~ 1000 - log 2; log(Z+1) ~ 0.
    expect(realSmall).toBeCloseTo(1000 - Math.log(2), 3);
    expect(genSmall).toBeCloseTo(0, 6);
  });
});
