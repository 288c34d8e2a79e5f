import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { relativeDiff, seededNormal } from '../../helpers/compare';

/**
 * FusedBatchNorm's gradient through ganql's one-pass wasm kernel against tfjs's own gradient on the
 * cpu backend, in the two ways a network uses it: statistics of the batch (as tf.layers'
 * batchNormalization in training, gradients flowing through mean and variance too) and given
 * statistics (the gradients of mean and variance themselves).
 */
interface Case {
  name: string;
  x: number[];
}

const cases: Case[] = [
  { name: 'batch 1', x: [1, 3, 3, 5] },
  { name: 'odd sizes', x: [3, 5, 7, 3] },
  { name: 'a dense layer (2-D)', x: [6, 11] },
  { name: 'the DCGAN discriminator', x: [64, 7, 7, 64] },
];

const TOLERANCE = 1e-4;

interface Inputs {
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  /** Weights of the loss sum(w * y), so dy is not uniform. */
  w: Float32Array;
}

/** Gradients of sum(w * batchNorm(...)) with respect to every input, on the current backend. */
function gradients(c: Case, v: Inputs): Float32Array[] {
  const channels = c.x[c.x.length - 1];
  const pShape = [channels];
  return tf.tidy(() => {
    const x = tf.tensor(v.x, c.x);
    const gamma = tf.tensor(v.gamma, pShape);
    const beta = tf.tensor(v.beta, pShape);
    const w = tf.tensor(v.w, c.x);
    const reduce = c.x.map((_, i) => i).slice(0, -1);
    // Batch statistics, as tf.layers computes them in training.
    const fromBatch = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, reduce);
      return tf.sum(tf.mul(tf.batchNorm(a, tf.reshape(mean, pShape), tf.reshape(variance, pShape), b, g, 1e-5), w));
    })([x, gamma, beta]);
    // Given statistics: their own gradients.
    const given = tf.grads((a: tf.Tensor, m: tf.Tensor, s: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a, m, s, b, g, 1e-3), w)))([
      x,
      tf.tensor(v.mean, pShape),
      tf.tensor(v.variance, pShape),
      gamma,
      beta,
    ]);
    return [...fromBatch, ...given].map((t) => t.dataSync() as Float32Array);
  });
}

/** Largest |a - b| relative to the largest |b| (gradients are sums of many terms). */

describe('FusedBatchNorm gradient on wasm vs tfjs on cpu', () => {
  const inputs: Inputs[] = [];
  const reference: Float32Array[][] = [];

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => {
      const channels = c.x[c.x.length - 1];
      const v: Inputs = {
        // An offset mean, as activations have: the centring must not lose precision.
        x: seededNormal(c.x, 10 + i, 3, 2),
        gamma: seededNormal([channels], 20 + i, 1, 0.3),
        beta: seededNormal([channels], 30 + i),
        mean: seededNormal([channels], 40 + i, 3),
        variance: seededNormal([channels], 50 + i, 4, 0.5),
        w: seededNormal(c.x, 60 + i),
      };
      inputs.push(v);
      reference.push(gradients(c, v));
    });
    await initBackend({ order: ['wasm'] });
  });

  cases.forEach((c, i) => {
    it(`matches within ${TOLERANCE} (relative) on ${c.name} [${c.x}]`, () => {
      const before = tf.memory().numTensors;
      const got = gradients(c, inputs[i]);
      const names = ['dx (batch stats)', 'dgamma (batch stats)', 'dbeta (batch stats)', 'dx', 'dmean', 'dvariance', 'dgamma', 'dbeta'];
      const diffs = got.map((g, j) => relativeDiff(g, reference[i][j]));
      console.log(`${c.name}: max relative diff ${Math.max(...diffs).toExponential(2)}`);
      diffs.forEach((d, j) => expect(d, names[j]).toBeLessThanOrEqual(TOLERANCE));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('uses the kernel on wasm (the gradient of a tfjs batchNorm runs GanqlFusedBatchNormGrad)', () => {
    const seen: string[] = [];
    // tf.profile lists the kernels run.
    return tf
      .profile(() =>
        tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.batchNorm(a, tf.zeros([2]), tf.ones([2]), tf.zeros([2]), tf.ones([2]))))(tf.ones([4, 3, 3, 2]))),
      )
      .then((info) => {
        for (const k of info.kernels) seen.push(k.name);
        tf.dispose(info.result);
        expect(seen).toContain('GanqlFusedBatchNormGrad');
        expect(seen).not.toContain('Tile');
      });
  });
});
