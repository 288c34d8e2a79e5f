import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadClassifier } from '../../src/inference/classifier';
import { foldWeightNorm } from '../../src/inference/fold-weight-norm';
import { saveLayersModel } from '../../src/models/io';
import { seededGaussianNoise } from '../../src/models/layers/seeded-gaussian-noise';
import { weightNormDense } from '../../src/models/layers/weight-norm-dense';
import { maxAbsDiff } from '../helpers/generator';

/** image -> flatten -> noise -> WN 24 relu -> noise -> WN 16 relu -> noise -> WN 10 logits, as the K+1 MLP is built. */
function buildWeightNormClassifier(): tf.LayersModel {
  const image = tf.input({ shape: [28, 28, 1] });
  let x = tf.layers.flatten().apply(image) as tf.SymbolicTensor;
  x = seededGaussianNoise({ name: 'noise0', stddev: 0.6, seed: 1 }).apply(x) as tf.SymbolicTensor;
  [24, 16].forEach((units, i) => {
    x = weightNormDense({ name: `hidden${i + 1}`, units, activation: 'relu', trainScale: false, seed: 10 + i }).apply(x) as tf.SymbolicTensor;
    x = seededGaussianNoise({ name: `noise${i + 1}`, stddev: 0.5, seed: 2 + i }).apply(x) as tf.SymbolicTensor;
  });
  const logits = weightNormDense({ name: 'logits', units: 10, activation: 'linear', trainScale: true, seed: 20 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: image, outputs: logits });
}

describe('foldWeightNorm', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-fold-wn-'));
  let model: tf.LayersModel;
  let images: tf.Tensor4D;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    model = buildWeightNormClassifier();
    images = tf.randomUniform<tf.Rank.R4>([6, 28, 28, 1], -1, 1, 'float32', 3);
    // Non-trivial scales and biases, as after the data-dependent init and training.
    for (const layer of model.layers) {
      if (layer.getClassName() !== 'WeightNormDense') continue;
      const [v, g, b] = layer.getWeights();
      const values = [v, tf.randomUniform(g.shape, 0.5, 2, 'float32', 5), tf.randomNormal(b.shape, 0, 0.3, 'float32', 6)];
      layer.setWeights(values);
      tf.dispose(values.slice(1));
    }
  });

  afterAll(() => {
    model?.dispose();
    images?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the logits of the model at inference, with plain Dense layers and no noise layers, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const folded = await foldWeightNorm(model);
    const [expected, got] = tf.tidy(() => [
      (model.predict(images) as tf.Tensor).dataSync() as Float32Array,
      (folded.predict(images) as tf.Tensor).dataSync() as Float32Array,
    ]);
    const diff = maxAbsDiff(got, expected);
    console.log(`foldWeightNorm: max abs difference of the logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(1e-5);
    // The logits are not all alike: the comparison says something.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.5);
    expect(folded.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Flatten', 'Dense', 'Dense', 'Dense']);
    folded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is what loadClassifier serves from a saved K+1-style classifier, unless told not to fold', async () => {
    await saveLayersModel(model, path.join(dir, 'wn'));
    const spec = { dir: path.join(dir, 'wn'), imageShape: [28, 28, 1] as [number, number, number], classes: 10 };
    const served = await loadClassifier(spec);
    const asSaved = await loadClassifier(spec, { fold: false });
    try {
      expect(served.layers.some((l) => l.getClassName() === 'WeightNormDense')).toBe(false);
      expect(asSaved.layers.filter((l) => l.getClassName() === 'WeightNormDense')).toHaveLength(3);
      const [a, b] = tf.tidy(() => [
        (served.predict(images) as tf.Tensor).dataSync() as Float32Array,
        (asSaved.predict(images) as tf.Tensor).dataSync() as Float32Array,
      ]);
      expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-5);
    } finally {
      served.dispose();
      asSaved.dispose();
    }
  });
});
