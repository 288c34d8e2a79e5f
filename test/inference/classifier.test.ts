import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadClassifier, runClassifier } from '../../src/inference/classifier';
import { saveLayersModel } from '../../src/models/io';
import { minibatchDiscrimination } from '../../src/models/layers/minibatch-discrimination';
import { buildTestClassifier, seededImages, toUnitRange } from '../classify/kplusone-fixture';
import { maxAbsDiff } from '../helpers/generator';

describe('loadClassifier and runClassifier', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-classifier-'));
  let reference: tf.LayersModel;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    reference = buildTestClassifier(10, 3);
    await saveLayersModel(reference, path.join(dir, 'good'));
  });

  afterAll(() => {
    reference?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a classifier that fits the manifest and gives the logits of a direct predict, leaking no tensor', async () => {
    const classifier = await loadClassifier({ dir: path.join(dir, 'good'), imageShape: [28, 28, 1], classes: 10 });
    try {
      const images = seededImages(5, 11).map(toUnitRange);
      const batch = new Float32Array(5 * 784);
      images.forEach((x, i) => batch.set(x, i * 784));
      const before = tf.memory().numTensors;
      const logits = await runClassifier(classifier, batch, 5);
      expect(tf.memory().numTensors).toBe(before);
      const expected = tf.tidy(() => (reference.predict(tf.tensor4d(batch, [5, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
      expect(logits).toHaveLength(50);
      expect(maxAbsDiff(logits, expected)).toBeLessThanOrEqual(1e-6);
      // Logits spread over several units: the fixture is not a near-uniform classifier.
      expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(2);
      await expect(runClassifier(classifier, batch.subarray(0, 783), 1)).rejects.toThrow('executor: expected 784 image values (1 x 28x28x1), got 783');
    } finally {
      classifier.dispose();
    }
  });

  it('refuses a classifier whose class count or input shape does not match the manifest, naming the folder', async () => {
    const good = path.join(dir, 'good');
    await expect(loadClassifier({ dir: good, imageShape: [28, 28, 1], classes: 11 })).rejects.toThrow(
      `classifier ${good}: expected one output of shape [n, 11] (one logit per class in the manifest), got [n, 10]`,
    );
    await expect(loadClassifier({ dir: good, imageShape: [32, 32, 3], classes: 10 })).rejects.toThrow(
      `classifier ${good}: expected one input of shape [n, 32, 32, 3] (the model's imageShape), got [n, 28, 28, 1]`,
    );
    const missing = path.join(dir, 'missing');
    await expect(loadClassifier({ dir: missing, imageShape: [28, 28, 1], classes: 10 })).rejects.toThrow(
      `classifier ${missing}: loadLayersModel: cannot read ${path.join(missing, 'model.json')}`,
    );
  });

  it('refuses a classifier with a batch-dependent layer, whose labels would change with the batch', async () => {
    const image = tf.input({ shape: [28, 28, 1] });
    let x = tf.layers.flatten().apply(image) as tf.SymbolicTensor;
    x = minibatchDiscrimination({ name: 'md', kernels: 4, kernelDim: 3, seed: 1 }).apply(x) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: 10 }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: image, outputs: logits });
    await saveLayersModel(model, path.join(dir, 'md'));
    model.dispose();
    const before = tf.memory().numTensors;
    await expect(loadClassifier({ dir: path.join(dir, 'md'), imageShape: [28, 28, 1], classes: 10 })).rejects.toThrow(
      'expected layers that treat each image on its own, got MinibatchDiscrimination layer "md", whose output depends on the rest of the batch',
    );
    // The refused model was disposed.
    expect(tf.memory().numTensors).toBe(before);
  });
});
