import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { describeLayers, neuronCount } from '../../src/models/layer-info';
import { buildDiscriminator, buildGenerator } from '../../src/models/dcgan';

describe('describeLayers', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('lists a DCGAN discriminator\'s feature layers: no input or flatten, batchnorm and activations kept', () => {
    const d = buildDiscriminator({ discriminatorFilters: 4 });
    expect(describeLayers(d, { role: 'features' })).toEqual([
      { name: 'd_down1', className: 'Conv2D', outputShape: [14, 14, 4], neurons: 4 },
      { name: 'd_down1_lrelu', className: 'LeakyReLU', outputShape: [14, 14, 4], neurons: 4 },
      { name: 'd_down2', className: 'Conv2D', outputShape: [7, 7, 8], neurons: 8 },
      { name: 'd_down2_bn', className: 'BatchNormalization', outputShape: [7, 7, 8], neurons: 8 },
      { name: 'd_down2_lrelu', className: 'LeakyReLU', outputShape: [7, 7, 8], neurons: 8 },
      { name: 'd_logit', className: 'Dense', outputShape: [1], neurons: 1 },
    ]);
    d.dispose();
  });

  it('lists a generator\'s layers without input and batchnorms (folded when served); reshape is listed', () => {
    const g = buildGenerator({ generatorFilters: 4, latentSize: 8 });
    expect(describeLayers(g, { role: 'generator' }).map((l) => [l.name, l.neurons])).toEqual([
      ['g_project', 7 * 7 * 8],
      ['g_project_relu', 7 * 7 * 8],
      ['g_reshape', 8],
      ['g_up1', 4],
      ['g_up1_relu', 4],
      ['g_up2', 1],
    ]);
    g.dispose();
  });

  it('leaves out dropout and noise layers and outputs that are neither [units] nor [h, w, c]', () => {
    const x = tf.input({ shape: [6] });
    const noisy = tf.layers.gaussianNoise({ stddev: 0.1, name: 'noise' }).apply(x) as tf.SymbolicTensor;
    const h = tf.layers.dense({ units: 4, name: 'h' }).apply(noisy) as tf.SymbolicTensor;
    const dropped = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(h) as tf.SymbolicTensor;
    const seq = tf.layers.reshape({ targetShape: [2, 2], name: 'r' }).apply(dropped) as tf.SymbolicTensor;
    const rnnLike = tf.layers.dense({ units: 3, name: 'per_step' }).apply(seq) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: rnnLike });
    expect(describeLayers(model, { role: 'features' })).toEqual([{ name: 'h', className: 'Dense', outputShape: [4], neurons: 4 }]);
    model.dispose();
  });
});

describe('neuronCount', () => {
  it('counts units or channels', () => {
    expect(neuronCount([64])).toBe(64);
    expect(neuronCount([7, 7, 32])).toBe(32);
    expect(() => neuronCount([3, 4])).toThrow(/got \[3, 4\]/);
  });
});
