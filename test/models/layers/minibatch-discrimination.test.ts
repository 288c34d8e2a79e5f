import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { buildDiscriminator } from '../../../src/models/dcgan';
import { loadLayersModel, saveLayersModel } from '../../../src/models/io';
import { MinibatchDiscrimination, minibatchDiscrimination } from '../../../src/models/layers/minibatch-discrimination';

function tinyModel(features: number, kernels: number, kernelDim: number): tf.LayersModel {
  const x = tf.input({ shape: [features] });
  const y = minibatchDiscrimination({ name: 'mbd', kernels, kernelDim, seed: 1 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

describe('minibatch discrimination layer', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('maps [n, A] to [n, A + B] and keeps x in the first A columns', () => {
    const m = tinyModel(5, 3, 4);
    expect(m.outputs[0].shape).toEqual([null, 8]);
    expect(m.getLayer('mbd').getWeights()[0].shape).toEqual([5, 12]);
    const before = tf.memory().numTensors;
    const [x, y] = tf.tidy(() => {
      const input = tf.randomNormal([6, 5], 0, 1, 'float32', 2);
      const out = m.predict(input) as tf.Tensor;
      expect(out.shape).toEqual([6, 8]);
      return [input.dataSync(), tf.slice(out, [0, 0], [6, 5]).dataSync()];
    });
    expect(Array.from(y)).toEqual(Array.from(x));
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('equals the hand-computed o(x) for two examples (the sum over j includes j = i)', () => {
    const m = tinyModel(1, 2, 2);
    // T [A=1, B*C=4]: kernel 1 projects x to [x, 2x], kernel 2 to [x/2, 0].
    m.getLayer('mbd').setWeights([tf.tensor2d([[1, 2, 0.5, 0]])]);
    const out = tf.tidy(() => (m.predict(tf.tensor2d([[1], [3]])) as tf.Tensor).arraySync() as number[][]);
    // kernel 1: ||[1,2] - [3,6]||_1 = 6; kernel 2: ||[0.5,0] - [1.5,0]||_1 = 1; plus exp(0) = 1 for j = i.
    const o1 = 1 + Math.exp(-6);
    const o2 = 1 + Math.exp(-1);
    const expected = [[1, o1, o2], [3, o1, o2]];
    out.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 6)));
    m.dispose();
  });

  it('gives o = n for n identical examples, and gradients reach T', () => {
    const m = tinyModel(4, 3, 2);
    const layer = m.getLayer('mbd');
    const before = tf.memory().numTensors;
    const o = tf.tidy(() => {
      const x = tf.tile(tf.tensor2d([[0.3, -1, 2, 0.5]]), [5, 1]);
      return tf.slice(m.predict(x) as tf.Tensor, [0, 4], [5, 3]).dataSync();
    });
    expect(Array.from(o)).toEqual(new Array(15).fill(5));
    const gradNorm = tf.tidy(() => {
      const x = tf.randomNormal([4, 4], 0, 1, 'float32', 3);
      const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(m.apply(x) as tf.Tensor), [layer.trainableWeights[0].read() as tf.Variable]);
      return tf.norm(Object.values(grads)[0]).dataSync()[0];
    });
    expect(gradNorm).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('saves and loads with src/models/io.ts: same config, same outputs', async () => {
    const m = tinyModel(4, 3, 2);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-mbd-'));
    await saveLayersModel(m, dir);
    const loaded = await loadLayersModel(dir);
    const layer = loaded.getLayer('mbd');
    expect(layer).toBeInstanceOf(MinibatchDiscrimination);
    expect(layer.getConfig()).toMatchObject({ kernels: 3, kernelDim: 2, seed: 1 });
    const [a, b] = tf.tidy(() => {
      const x = tf.randomNormal([3, 4], 0, 1, 'float32', 4);
      return [(m.predict(x) as tf.Tensor).dataSync(), (loaded.predict(x) as tf.Tensor).dataSync()];
    });
    expect(Array.from(b)).toEqual(Array.from(a));
    loaded.dispose();
    m.dispose();
  });

  it('sits between flatten and logit in the DCGAN discriminator variant, which round-trips through io.ts', async () => {
    const d = buildDiscriminator({ discriminatorFilters: 4, seed: 2 }, { minibatchDiscrimination: { kernels: 6, kernelDim: 3 } });
    const names = d.layers.map((l) => l.name);
    expect(names.slice(-3)).toEqual(['d_flatten', 'd_minibatch', 'd_logit']);
    expect(d.getLayer('d_minibatch').outputShape).toEqual([null, 7 * 7 * 8 + 6]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-mbd-d-'));
    await saveLayersModel(d, dir);
    const loaded = await loadLayersModel(dir);
    const [a, b] = tf.tidy(() => {
      const x = tf.randomUniform([4, 28, 28, 1], -1, 1, 'float32', 5);
      return [(d.predict(x) as tf.Tensor).dataSync(), (loaded.predict(x) as tf.Tensor).dataSync()];
    });
    expect(Array.from(b)).toEqual(Array.from(a));
    loaded.dispose();
    d.dispose();
  });

  it('rejects bad settings', () => {
    expect(() => minibatchDiscrimination({ kernels: 0, kernelDim: 2 })).toThrow('minibatchDiscrimination.kernels: expected a positive integer, got 0');
    expect(() => minibatchDiscrimination({ kernels: 2, kernelDim: 1.5 })).toThrow('minibatchDiscrimination.kernelDim: expected a positive integer, got 1.5');
  });
});
