import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { foldBatchNorm } from '../../src/models/fold-batch-norm';
import { buildTestGenerator, maxAbsDiff, randomizeBatchNorm, seededLatents } from '../helpers/generator';

function predict(model: tf.LayersModel, input: Float32Array, shape: number[]): Float32Array {
  const out = tf.tidy(() => model.predict(tf.tensor(input, shape)) as tf.Tensor);
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

describe('foldBatchNorm', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('folds both batchnorms of the DCGAN generator into the dense and transposed conv before them, same images', async () => {
    const generator = buildTestGenerator();
    const z = seededLatents(16, 100);
    const expected = predict(generator, z, [16, 100]);
    const before = tf.memory().numTensors;

    const folded = await foldBatchNorm(generator);
    expect(folded.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Dense', 'ReLU', 'Reshape', 'Conv2DTranspose', 'ReLU', 'Conv2DTranspose']);
    expect((folded.getLayer('g_project').getConfig() as { useBias: boolean }).useBias).toBe(true);
    expect((folded.getLayer('g_up1').getConfig() as { useBias: boolean }).useBias).toBe(true);
    const got = predict(folded, z, [16, 100]);
    const diff = maxAbsDiff(got, expected);
    console.log(`folded generator vs original: max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(1e-4);
    // Not a no-op: the statistics matter, so a fold that ignored them would differ by far more.
    const fresh = buildTestGenerator();
    randomizeBatchNorm(fresh, 99);
    expect(maxAbsDiff(predict(fresh, z, [16, 100]), expected)).toBeGreaterThan(1e-2);
    fresh.dispose();

    // The original is untouched and the copy owns its weights.
    expect(generator.layers).toHaveLength(9);
    folded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(maxAbsDiff(predict(generator, z, [16, 100]), expected)).toBe(0);
    generator.dispose();
  });

  it('folds into a conv with a bias of its own, and leaves a batchnorm that cannot be folded in place', async () => {
    const x = tf.input({ shape: [6, 6, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', biasInitializer: 'randomNormal', name: 'c' }).apply(x) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: 'c_bn' }).apply(conv) as tf.SymbolicTensor;
    const relu = tf.layers.reLU({ name: 'r' }).apply(bn) as tf.SymbolicTensor;
    // After a ReLU, not a linear layer: stays.
    const bnAfterRelu = tf.layers.batchNormalization({ name: 'r_bn' }).apply(relu) as tf.SymbolicTensor;
    // A conv read by a batchnorm and by the output: folding would change the other reader, so it stays.
    const shared = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 's' }).apply(bnAfterRelu) as tf.SymbolicTensor;
    const sharedBn = tf.layers.batchNormalization({ name: 's_bn' }).apply(shared) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: [sharedBn, shared] });
    randomizeBatchNorm(model, 3);
    const input = seededLatents(2, 6 * 6 * 3, 5);
    const outputs = (m: tf.LayersModel) => {
      const ys = tf.tidy(() => m.predict(tf.tensor(input, [2, 6, 6, 3])) as tf.Tensor[]);
      const values = ys.map((y) => y.dataSync() as Float32Array);
      tf.dispose(ys);
      return values;
    };
    const expected = outputs(model);

    const folded = await foldBatchNorm(model);
    expect(folded.layers.map((l) => l.name)).toEqual([model.layers[0].name, 'c', 'r', 'r_bn', 's', 's_bn']);
    const got = outputs(folded);
    const diffs = got.map((g, i) => maxAbsDiff(g, expected[i]));
    console.log(`partly folded model vs original: max abs diff ${diffs.map((d) => d.toExponential(2)).join(', ')}`);
    for (const d of diffs) expect(d).toBeLessThanOrEqual(1e-4);
    folded.dispose();
    model.dispose();
  });
});
