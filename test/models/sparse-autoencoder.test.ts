import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { reseedNoise } from '../../src/models/layers/seeded-random-layer';
import { buildDecoder, buildEncoder, encoderForServing, resolveSparseAutoencoderConfig, sparseLayerNames } from '../../src/models/sparse-autoencoder';

describe('sparse autoencoder builders', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('encoder: image -> flatten -> noise -> sigmoid hidden layers -> sigmoid code, with the names users type', () => {
    const e = buildEncoder({ hiddenUnits: [256, 128], codeSize: 32 });
    expect(e.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(e.outputs[0].shape).toEqual([null, 32]);
    expect(e.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual([
      'image:InputLayer', 'enc_flatten:Flatten', 'enc_noise:SeededGaussianNoise', 'enc_hidden1:Dense', 'enc_hidden2:Dense', 'enc_code:Dense',
    ]);
    expect(['enc_hidden1', 'enc_hidden2', 'enc_code'].map((n) => e.getLayer(n).outputShape)).toEqual([[null, 256], [null, 128], [null, 32]]);
    expect(['enc_hidden1', 'enc_code'].map((n) => (e.getLayer(n).getConfig() as { activation: string }).activation)).toEqual(['sigmoid', 'sigmoid']);
    expect(sparseLayerNames({ hiddenUnits: [256, 128], codeSize: 32 })).toEqual(['enc_hidden1', 'enc_hidden2', 'enc_code']);
    e.dispose();
    // inputNoise 0: no noise layer at all.
    const plain = buildEncoder({ inputNoise: 0 });
    expect(plain.layers.map((l) => l.getClassName())).not.toContain('SeededGaussianNoise');
    plain.dispose();
  });

  it('decoder: code -> mirrored ReLU layers -> 784 tanh -> [28, 28, 1]; decoder(encoder(x)) has the image shape, in [-1, 1]', () => {
    const config = { hiddenUnits: [64, 16], codeSize: 8, seed: 3 };
    const d = buildDecoder(config);
    expect(d.inputs[0].shape).toEqual([null, 8]);
    expect(d.outputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(['dec_hidden1', 'dec_hidden2', 'dec_pixels'].map((n) => d.getLayer(n).outputShape)).toEqual([[null, 16], [null, 64], [null, 784]]);
    expect((d.getLayer('dec_pixels').getConfig() as { activation: string }).activation).toBe('tanh');
    const e = buildEncoder(config);
    const before = tf.memory().numTensors;
    const [shape, min, max, codeMin, codeMax] = tf.tidy(() => {
      const code = e.predict(tf.randomUniform([5, 28, 28, 1], -1, 1, 'float32', 4)) as tf.Tensor;
      const out = d.predict(code) as tf.Tensor;
      return [out.shape, tf.min(out).dataSync()[0], tf.max(out).dataSync()[0], tf.min(code).dataSync()[0], tf.max(code).dataSync()[0]];
    });
    expect(shape).toEqual([5, 28, 28, 1]);
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    expect(codeMin).toBeGreaterThan(0);
    expect(codeMax).toBeLessThan(1);
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
    e.dispose();
  });

  it('the noise is on in training only, seeded; the served encoder drops it and computes the same code', () => {
    const config = { hiddenUnits: [32], codeSize: 4, seed: 9 };
    const e = buildEncoder(config);
    const served = encoderForServing(e, config);
    expect(served.layers.map((l) => l.name)).toEqual(['image', 'enc_flatten', 'enc_hidden1', 'enc_code']);
    const before = tf.memory().numTensors;
    const [inference, servedCode, trainA, trainB, trainC] = tf.tidy(() => {
      const x = tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 5);
      const training = (stream: number): number[] => {
        reseedNoise(e, stream);
        return Array.from((e.apply(x, { training: true }) as tf.Tensor).dataSync());
      };
      return [Array.from((e.predict(x) as tf.Tensor).dataSync()), Array.from((served.predict(x) as tf.Tensor).dataSync()), training(1), training(1), training(2)];
    });
    expect(servedCode).toEqual(inference);
    expect(trainA).toEqual(trainB);
    expect(trainA).not.toEqual(trainC);
    expect(trainA).not.toEqual(inference);
    expect(tf.memory().numTensors).toBe(before);
    served.dispose();
    e.dispose();
  });

  it('seeded weights: one seed, one encoder', () => {
    const a = buildEncoder({ hiddenUnits: [8], codeSize: 2, seed: 1 });
    const b = buildEncoder({ hiddenUnits: [8], codeSize: 2, seed: 1 });
    const c = buildEncoder({ hiddenUnits: [8], codeSize: 2, seed: 2 });
    const kernel = (m: tf.LayersModel): number[] => Array.from(m.getLayer('enc_hidden1').getWeights()[0].dataSync());
    expect(kernel(a)).toEqual(kernel(b));
    expect(kernel(a)).not.toEqual(kernel(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('rejects bad configs with "expected X, got Y"', () => {
    expect(() => resolveSparseAutoencoderConfig({ codeSize: 0 })).toThrow('SparseAutoencoderConfig.codeSize: expected a positive integer, got 0');
    expect(() => resolveSparseAutoencoderConfig({ hiddenUnits: [16, -1] })).toThrow('SparseAutoencoderConfig.hiddenUnits: expected a list of positive integers, got [16,-1]');
    expect(() => resolveSparseAutoencoderConfig({ inputNoise: -0.1 })).toThrow('SparseAutoencoderConfig.inputNoise: expected a finite number >= 0, got -0.1');
  });
});
