import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { buildGenerator } from '../../src/models/dcgan';
import { freezeVirtualBatchNorm } from '../../src/models/freeze-vbn';
import { saveLayersModel } from '../../src/models/io';
import { buildKPlusOneGenerator } from '../../src/models/kplusone-mlp';
import { withReference } from '../../src/models/layers/virtual-batch-norm';
import { loadServedGenerator } from '../../src/models/served-generator';
import { seededNoise } from '../../src/training/dcgan-trainer';

const R = 6;

/** Gives every VBN layer non-trivial gamma and beta, so the freeze must carry them over. */
function perturb(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'VirtualBatchNormalization') continue;
    const [gamma, beta] = layer.getWeights();
    layer.setWeights([tf.add(gamma, tf.randomUniform(gamma.shape, -0.5, 0.5, 'float32', 1)), tf.randomUniform(beta.shape, -0.5, 0.5, 'float32', 2)]);
  }
}

function maxDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('freezeVirtualBatchNorm', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it.each([
    ['dcgan', () => buildGenerator({ latentSize: 8, generatorFilters: 4, seed: 2 }, { virtualBatchNorm: { referenceSize: R } })],
    ['kplusone mlp', () => buildKPlusOneGenerator({ latentSize: 8, generatorUnits: [16, 12], seed: 2 }, { virtualBatchNorm: { referenceSize: R } })],
  ])('%s: the frozen generator matches VBN with its reference batch (1e-5), through the serving path too', async (_, build) => {
    const vbn = build();
    perturb(vbn);
    const reference = tf.tensor2d(seededNoise(R, 8, 3), [R, 8]);
    const before = tf.memory().numTensors;
    const frozen = await freezeVirtualBatchNorm(vbn, reference);
    expect(frozen).not.toBeNull();
    if (frozen === null) return;
    expect(frozen.layers.map((l) => l.getClassName())).not.toContain('VirtualBatchNormalization');
    expect(frozen.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(2);
    // VBN at inference on the reference batch: its reference rows are normalised with the reference statistics.
    const want = tf.tidy(() => tf.slice(vbn.predict(withReference(reference, reference)) as tf.Tensor, 0, R).dataSync());
    const got = tf.tidy(() => (frozen.predict(reference) as tf.Tensor).dataSync());
    expect(got.length).toBe(R * 784);
    expect(maxDiff(got, want)).toBeLessThan(1e-5);

    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-freeze-')), 'generator');
    await saveLayersModel(frozen, dir);
    const served = await loadServedGenerator(dir);
    expect(served.layers.map((l) => l.getClassName())).not.toContain('BatchNormalization');
    const servedOut = tf.tidy(() => (served.predict(reference) as tf.Tensor).dataSync());
    expect(maxDiff(servedOut, want)).toBeLessThan(1e-5);
    served.dispose();
    frozen.dispose();
    expect(tf.memory().numTensors).toBe(before);
    reference.dispose();
    vbn.dispose();
  });

  it('returns null for a generator without VBN and rejects a reference of the wrong size', async () => {
    const plain = buildGenerator({ latentSize: 8, generatorFilters: 4 });
    const reference = tf.zeros<tf.Rank.R2>([R, 8]);
    expect(await freezeVirtualBatchNorm(plain, reference)).toBeNull();
    const vbn = buildGenerator({ latentSize: 8, generatorFilters: 4 }, { virtualBatchNorm: { referenceSize: R + 1 } });
    await expect(freezeVirtualBatchNorm(vbn, reference)).rejects.toThrow(`expected g_project_vbn.referenceSize = ${R} (the reference noise rows), got ${R + 1}`);
    tf.dispose([reference]);
    plain.dispose();
    vbn.dispose();
  });
});
