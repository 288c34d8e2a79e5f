import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { loadLayersModel, saveLayersModel } from '../../../src/models/io';
import { initWeightNorm, WeightNormDense, weightNormDense } from '../../../src/models/layers/weight-norm-dense';

function model(trainScale: boolean): tf.LayersModel {
  const x = tf.input({ shape: [5] });
  const h = weightNormDense({ name: 'wn1', units: 4, activation: 'relu', trainScale: false, seed: 1 }).apply(x) as tf.SymbolicTensor;
  const y = weightNormDense({ name: 'wn2', units: 3, activation: 'linear', trainScale, seed: 2 }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

describe('WeightNormDense', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('computes act(x v g/||v|| + b) by hand, and trains g only when trainScale', () => {
    const m = model(true);
    const layer = m.getLayer('wn1') as WeightNormDense;
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[1, -2, 0.5, 3, -1]]);
    const [got, want, norms] = tf.tidy(() => {
      const [v, g, b] = [layer.weights[0].read(), tf.ones([4]), layer.bias()];
      const w = tf.div(v, tf.norm(v, 'euclidean', 0));
      return [
        Array.from((tf.model({ inputs: m.inputs, outputs: layer.output }).predict(x) as tf.Tensor).dataSync()),
        Array.from(tf.relu(tf.add(tf.matMul(x, tf.mul(w, g)), b)).dataSync()),
        Array.from(tf.norm(layer.kernel(), 'euclidean', 0).dataSync()),
      ];
    });
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(layer.trainableWeights.map((w) => w.originalName.split('/').pop())).toEqual(['v', 'b']);
    expect((m.getLayer('wn2') as WeightNormDense).trainableWeights.map((w) => w.originalName.split('/').pop())).toEqual(['v', 'g', 'b']);
    m.dispose();
  });

  it('initWeightNorm gives each layer pre-activations of mean 0 and variance 1 on the batch', () => {
    const m = model(false);
    const batch = tf.randomNormal([200, 5], 3, 2, 'float32', 7);
    initWeightNorm(m, batch);
    const [mean, variance] = tf.tidy(() => {
      const pre = tf.matMul(batch, (m.getLayer('wn1') as WeightNormDense).kernel()).add((m.getLayer('wn1') as WeightNormDense).bias());
      const { mean: mu, variance: v } = tf.moments(pre, 0);
      return [Array.from(mu.dataSync()), Array.from(v.dataSync())];
    });
    mean.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-4));
    variance.forEach((v) => expect(v).toBeCloseTo(1, 3));
    batch.dispose();
    m.dispose();
  });

  it('saves and loads with its config and weights', async () => {
    const m = model(true);
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-wn-')), 'm');
    await saveLayersModel(m, dir);
    const loaded = await loadLayersModel(dir);
    expect(loaded.getLayer('wn2').getConfig()).toMatchObject({ units: 3, activation: 'linear', trainScale: true });
    const x = tf.tensor2d([[0.1, 0.2, 0.3, 0.4, 0.5]]);
    const [a, b] = tf.tidy(() => [Array.from((m.predict(x) as tf.Tensor).dataSync()), Array.from((loaded.predict(x) as tf.Tensor).dataSync())]);
    expect(b).toEqual(a);
    x.dispose();
    m.dispose();
    loaded.dispose();
  });
});
