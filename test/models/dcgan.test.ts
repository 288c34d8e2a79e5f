import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { buildDiscriminator, buildGenerator, defaultDcganConfig, resolveDcganConfig } from '../../src/models/dcgan';

function layerTypes(model: tf.LayersModel): string[] {
  return model.layers.map((l) => l.getClassName());
}

function activation(layer: tf.layers.Layer): string | undefined {
  const config = layer.getConfig() as { activation?: string };
  return config.activation;
}

describe('DCGAN builders', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('generator: dense projection, two stride-2 transposed convs, batchnorm except on the output, tanh output', () => {
    const g = buildGenerator();
    expect(g.inputs[0].shape).toEqual([null, 100]);
    expect(g.outputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(layerTypes(g)).toEqual([
      'InputLayer', 'Dense', 'BatchNormalization', 'ReLU', 'Reshape',
      'Conv2DTranspose', 'BatchNormalization', 'ReLU', 'Conv2DTranspose',
    ]);
    expect(g.getLayer('g_reshape').outputShape).toEqual([null, 7, 7, 64]);
    expect(g.getLayer('g_up1').outputShape).toEqual([null, 14, 14, 32]);
    const out = g.getLayer('g_up2');
    expect(activation(out)).toBe('tanh');
    expect((out.getConfig() as { strides: number[] }).strides).toEqual([2, 2]);
    g.dispose();
  });

  it('discriminator: strided convs without pooling, no batchnorm on the input layer, LeakyReLU(0.2), one linear logit', () => {
    const d = buildDiscriminator();
    expect(d.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(d.outputs[0].shape).toEqual([null, 1]);
    const types = layerTypes(d);
    expect(types).toEqual(['InputLayer', 'Conv2D', 'LeakyReLU', 'Conv2D', 'BatchNormalization', 'LeakyReLU', 'Flatten', 'Dense']);
    expect(types.some((t) => /Pool/.test(t))).toBe(false);
    for (const l of d.layers.filter((x) => x.getClassName() === 'LeakyReLU')) {
      expect((l.getConfig() as { alpha: number }).alpha).toBeCloseTo(0.2);
    }
    expect(activation(d.getLayer('d_logit'))).toBe('linear');
    expect(d.getLayer('d_down2').outputShape).toEqual([null, 7, 7, 64]);
    d.dispose();
  });

  it('the config changes sizes; a seed fixes every initial weight', () => {
    const small = { generatorFilters: 8, discriminatorFilters: 4, latentSize: 16 };
    const a = buildGenerator({ ...small, seed: 7 });
    const b = buildGenerator({ ...small, seed: 7 });
    const c = buildGenerator({ ...small, seed: 8 });
    expect(a.inputs[0].shape).toEqual([null, 16]);
    expect(a.getLayer('g_up1').outputShape).toEqual([null, 14, 14, 8]);
    const w = (m: tf.LayersModel): Float32Array => m.getLayer('g_up1').getWeights()[0].dataSync() as Float32Array;
    expect(Array.from(w(a))).toEqual(Array.from(w(b)));
    expect(Array.from(w(a))).not.toEqual(Array.from(w(c)));
    // N(0, 0.02) as in the paper.
    const values = w(a);
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    const d = buildDiscriminator({ ...small, seed: 7 });
    expect(d.getLayer('d_down2').outputShape).toEqual([null, 7, 7, 8]);
    [a, b, c, d].forEach((m) => m.dispose());
  });

  it('rejects bad configs with "expected X, got Y"', () => {
    expect(() => resolveDcganConfig({ imageSize: 30 })).toThrow('DcganConfig.imageSize: expected a multiple of 4, got 30');
    expect(() => resolveDcganConfig({ latentSize: 0 })).toThrow('DcganConfig.latentSize: expected a positive integer, got 0');
    expect(resolveDcganConfig()).toEqual(defaultDcganConfig);
  });

  it('leaves the tensor count unchanged after inference and a training-mode pass', () => {
    const g = buildGenerator({ generatorFilters: 8 });
    const d = buildDiscriminator({ discriminatorFilters: 8 });
    const before = tf.memory().numTensors;
    const range = tf.tidy(() => {
      const images = g.predict(tf.randomNormal([4, 100], 0, 1, 'float32', 1)) as tf.Tensor;
      const logits = d.predict(images) as tf.Tensor;
      expect(logits.shape).toEqual([4, 1]);
      const trained = g.apply(tf.randomNormal([4, 100], 0, 1, 'float32', 2), { training: true }) as tf.Tensor;
      return [tf.min(images).dataSync()[0], tf.max(trained).dataSync()[0]];
    });
    expect(range[0]).toBeGreaterThanOrEqual(-1);
    expect(range[1]).toBeLessThanOrEqual(1);
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
    d.dispose();
  });
});
