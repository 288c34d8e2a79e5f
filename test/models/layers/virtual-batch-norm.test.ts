import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { buildGenerator } from '../../../src/models/dcgan';
import { loadLayersModel, saveLayersModel } from '../../../src/models/io';
import { virtualBatchNormalization, withoutReference, withReference } from '../../../src/models/layers/virtual-batch-norm';

const R = 4;

/** input [3] -> dense 4 -> (VBN | batchnorm); the same seeded dense in both. */
function model(norm: 'vbn' | 'bn'): tf.LayersModel {
  const x = tf.input({ shape: [3] });
  let y = tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
  const layer = norm === 'vbn' ? virtualBatchNormalization({ referenceSize: R }) : tf.layers.batchNormalization({ epsilon: 1e-5 });
  y = layer.apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

/** Output row 0 of the examples (reference rows dropped for VBN) for batch [x, ...others], training mode. */
function firstRow(m: tf.LayersModel, reference: tf.Tensor2D | null, batch: tf.Tensor2D): number[] {
  return tf.tidy(() => {
    const input = reference === null ? batch : withReference(reference, batch);
    let out = m.apply(input, { training: true }) as tf.Tensor;
    if (reference !== null) out = withoutReference(out, R);
    return Array.from(tf.slice(out, 0, 1).dataSync());
  });
}

describe('virtual batch normalization', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it("an example's output does not depend on the other examples of its batch; plain batchnorm's does", () => {
    const vbn = model('vbn');
    const bn = model('bn');
    const before = tf.memory().numTensors;
    const reference = tf.randomNormal<tf.Rank.R2>([R, 3], 0, 1, 'float32', 10);
    const x = [[0.5, -1, 2]];
    const batchA = tf.tensor2d([...x, [1, 1, 1], [-2, 0, 3]]);
    const batchB = tf.tensor2d([...x, [9, -7, 0.1]]);
    const vA = firstRow(vbn, reference, batchA);
    const vB = firstRow(vbn, reference, batchB);
    vA.forEach((v, i) => expect(v).toBeCloseTo(vB[i], 5));
    const bA = firstRow(bn, null, batchA);
    const bB = firstRow(bn, null, batchB);
    expect(Math.max(...bA.map((v, i) => Math.abs(v - bB[i])))).toBeGreaterThan(0.1);
    // A different reference batch changes the output: the statistics do come from it.
    const other = tf.randomNormal<tf.Rank.R2>([R, 3], 0, 1, 'float32', 11);
    const vOther = firstRow(vbn, other, batchA);
    expect(Math.max(...vA.map((v, i) => Math.abs(v - vOther[i])))).toBeGreaterThan(1e-3);
    tf.dispose([reference, other, batchA, batchB]);
    expect(tf.memory().numTensors).toBe(before);
    vbn.dispose();
    bn.dispose();
  });

  it('equals (x - mu) / sqrt(var + eps) with the reference statistics plus the example itself', () => {
    const layer = virtualBatchNormalization({ referenceSize: 2, epsilon: 1e-5 });
    const [out] = tf.tidy(() => [(layer.apply(tf.tensor2d([[1], [3], [5]])) as tf.Tensor).dataSync()]);
    // reference {1, 3}: mean 2, var 1. Example 5 with weight 1/3: mean (2*2 + 5)/3 = 3, E[x^2] = (2*5 + 25)/3 = 35/3, var 35/3 - 9 = 8/3.
    expect(out[0]).toBeCloseTo(-1 / Math.sqrt(1 + 1e-5), 5);
    expect(out[1]).toBeCloseTo(1 / Math.sqrt(1 + 1e-5), 5);
    expect(out[2]).toBeCloseTo(2 / Math.sqrt(8 / 3 + 1e-5), 5);
    layer.dispose();
  });

  it('normalises conv maps per channel over the batch and spatial axes; an example stays independent', () => {
    const layer = virtualBatchNormalization({ referenceSize: 2 });
    const before = tf.memory().numTensors;
    const row = (batch: tf.Tensor4D): number[] =>
      tf.tidy(() => Array.from(tf.slice(layer.apply(batch) as tf.Tensor, 2, 1).dataSync()));
    const ref = tf.randomNormal<tf.Rank.R4>([2, 3, 3, 2], 0, 1, 'float32', 5);
    const x = tf.randomNormal<tf.Rank.R4>([1, 3, 3, 2], 0, 1, 'float32', 6);
    const [a, b] = tf.tidy(() => [
      tf.concat<tf.Tensor4D>([ref, x, tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 7)]),
      tf.concat<tf.Tensor4D>([ref, x, tf.fill([1, 3, 3, 2], 4)]),
    ]);
    const ra = row(a);
    const rb = row(b);
    expect(ra).toHaveLength(18);
    ra.forEach((v, i) => expect(v).toBeCloseTo(rb[i], 5));
    tf.dispose([ref, x, a, b]);
    expect(tf.memory().numTensors).toBe(before + 2); // gamma, beta built on first call
    layer.dispose();
    expect(() => virtualBatchNormalization({ referenceSize: 0 })).toThrow('VirtualBatchNorm.referenceSize: expected a positive integer, got 0');
  });

  it('replaces both batchnorms of the DCGAN generator variant, which round-trips through io.ts', async () => {
    const g = buildGenerator({ generatorFilters: 4, latentSize: 8 }, { virtualBatchNorm: { referenceSize: 3 } });
    expect(g.layers.map((l) => l.getClassName()).filter((c) => /Norm/.test(c))).toEqual(['VirtualBatchNormalization', 'VirtualBatchNormalization']);
    expect(g.getLayer('g_up1_vbn').outputShape).toEqual([null, 14, 14, 4]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-vbn-'));
    await saveLayersModel(g, dir);
    const loaded = await loadLayersModel(dir);
    const [a, b] = tf.tidy(() => {
      const z = tf.randomNormal([5, 8], 0, 1, 'float32', 8);
      return [(g.predict(z) as tf.Tensor).dataSync(), (loaded.predict(z) as tf.Tensor).dataSync()];
    });
    expect(Array.from(b)).toEqual(Array.from(a));
    loaded.dispose();
    g.dispose();
  });
});
