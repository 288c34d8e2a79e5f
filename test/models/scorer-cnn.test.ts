import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { buildScorerCnn, resolveScorerCnnConfig } from '../../src/models/scorer-cnn';

describe('buildScorerCnn', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('is conv-relu-pool x2 -> dense 128 "features" -> dense 10 "logits" -> softmax "probs"', () => {
    const m = buildScorerCnn();
    expect(m.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(m.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense', 'Activation',
    ]);
    expect(m.getLayer('conv1').outputShape).toEqual([null, 28, 28, 16]);
    expect(m.getLayer('pool2').outputShape).toEqual([null, 7, 7, 32]);
    expect(m.getLayer('features').outputShape).toEqual([null, 128]);
    expect((m.getLayer('features').getConfig() as { activation: string }).activation).toBe('relu');
    expect(m.getLayer('logits').outputShape).toEqual([null, 10]);
    expect(m.outputs[0].shape).toEqual([null, 10]);
    const before = tf.memory().numTensors;
    const sums = tf.tidy(() => (m.predict(tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 1)) as tf.Tensor).sum(-1));
    const values = Array.from(sums.dataSync());
    sums.dispose();
    values.forEach((v) => expect(v).toBeCloseTo(1, 5));
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('is seeded: the same seed gives the same weights, another seed others', () => {
    const first = (seed: number): number[] => {
      const m = buildScorerCnn({ seed, filters1: 2, filters2: 2, featureUnits: 4 });
      const w = Array.from(m.getLayer('conv1').getWeights()[0].dataSync());
      m.dispose();
      return w;
    };
    expect(first(3)).toEqual(first(3));
    expect(first(3)).not.toEqual(first(4));
  });

  it('checks its config', () => {
    expect(() => resolveScorerCnnConfig({ inputShape: [30, 28, 1] })).toThrow('expected height and width divisible by 4 (two 2x2 pools), got 30x28');
    expect(() => resolveScorerCnnConfig({ classes: 1 })).toThrow('ScorerCnnConfig.classes: expected at least 2, got 1');
    expect(() => resolveScorerCnnConfig({ filters1: 0 })).toThrow('ScorerCnnConfig.filters1: expected a positive integer, got 0');
  });
});
