import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { buildMlpDiscriminator, buildMlpGenerator, resolveMlpGanConfig } from '../../src/models/mlp-gan';
import { DcganTrainer } from '../../src/training/dcgan-trainer';

describe('MLP GAN builders (Goodfellow et al. 2014)', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('generator: z -> 1200 ReLU -> 1200 ReLU -> 784 -> [28, 28, 1], tanh by default, sigmoid as in the paper', () => {
    const g = buildMlpGenerator();
    expect(g.inputs[0].shape).toEqual([null, 100]);
    expect(g.outputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(g.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Dense', 'Dense', 'Dense', 'Reshape']);
    expect(['g_hidden1', 'g_hidden2', 'g_pixels'].map((n) => g.getLayer(n).outputShape)).toEqual([[null, 1200], [null, 1200], [null, 784]]);
    expect((g.getLayer('g_hidden1').getConfig() as { activation: string }).activation).toBe('relu');
    expect((g.getLayer('g_pixels').getConfig() as { activation: string }).activation).toBe('tanh');
    g.dispose();
    const s = buildMlpGenerator({ outputActivation: 'sigmoid', generatorUnits: 16, latentSize: 8 });
    const before = tf.memory().numTensors;
    const range = tf.tidy(() => {
      const out = s.predict(tf.randomNormal([3, 8], 0, 4, 'float32', 1)) as tf.Tensor;
      expect(out.shape).toEqual([3, 28, 28, 1]);
      return [tf.min(out).dataSync()[0], tf.max(out).dataSync()[0]];
    });
    expect(range[0]).toBeGreaterThanOrEqual(0);
    expect(range[1]).toBeLessThanOrEqual(1);
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });

  it('discriminator: two maxout 240x5 layers with dropout, one logit; maxout is the max over the pieces', () => {
    const d = buildMlpDiscriminator();
    expect(d.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(d.outputs[0].shape).toEqual([null, 1]);
    expect(d.getLayer('d_maxout1_linear').outputShape).toEqual([null, 1200]);
    expect(d.getLayer('d_maxout1_pieces').outputShape).toEqual([null, 5, 240]);
    expect(d.getLayer('d_maxout1').outputShape).toEqual([null, 240]);
    expect(d.getLayer('d_maxout2').outputShape).toEqual([null, 240]);
    expect(d.layers.filter((l) => l.getClassName() === 'SeededDropout')).toHaveLength(2);
    d.dispose();

    const small = buildMlpDiscriminator({ discriminatorUnits: 2, maxoutPieces: 3 });
    const before = tf.memory().numTensors;
    const [linear, max] = tf.tidy(() => {
      const x = tf.randomUniform([2, 28, 28, 1], -1, 1, 'float32', 2);
      const probe = tf.model({ inputs: small.inputs, outputs: [small.getLayer('d_maxout1_linear').output, small.getLayer('d_maxout1').output] as tf.SymbolicTensor[] });
      return (probe.predict(x) as tf.Tensor[]).map((t) => t.arraySync() as number[][]);
    });
    // linear [n, pieces*units] laid out piece-major: unit u's pieces are columns u, u + units, u + 2*units.
    linear.forEach((row, i) => {
      for (let u = 0; u < 2; u++) expect(max[i][u]).toBeCloseTo(Math.max(row[u], row[u + 2], row[u + 4]), 6);
    });
    expect(tf.memory().numTensors).toBe(before);
    small.dispose();
  });

  it('rejects bad configs and trains a few steps with the DCGAN trainer, leaking nothing', async () => {
    expect(() => resolveMlpGanConfig({ dropout: 1 })).toThrow('MlpGanConfig.dropout: expected [0, 1), got 1');
    expect(() => resolveMlpGanConfig({ maxoutPieces: 0 })).toThrow('MlpGanConfig.maxoutPieces: expected a positive integer, got 0');
    const config = { latentSize: 10, generatorUnits: 32, discriminatorUnits: 16, seed: 3 };
    const data = loadMnist({ split: 'train', limit: 32 });
    const before = tf.memory().numTensors;
    const g = buildMlpGenerator(config);
    const d = buildMlpDiscriminator(config);
    const trainer = new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize: 16, seed: 1 });
    const losses = await trainer.trainEpoch(0);
    expect(Number.isFinite(losses.generator) && Number.isFinite(losses.discriminator)).toBe(true);
    trainer.dispose();
    g.dispose();
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
