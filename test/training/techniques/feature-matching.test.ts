import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { buildDiscriminator } from '../../../src/models/dcgan';
import { featureExtractor, featureMatchingLoss } from '../../../src/training/techniques/feature-matching';

describe('feature matching', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('is zero when the mean features match, even for different examples', () => {
    const before = tf.memory().numTensors;
    const loss = tf.tidy(
      () =>
        featureMatchingLoss(
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
          tf.tensor2d([
            [3, 4],
            [1, 2],
          ]),
        ).dataSync()[0],
    );
    expect(loss).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('equals ||mean real - mean fake||^2 on a small case, for any feature rank', () => {
    const before = tf.memory().numTensors;
    const [flat, spatial] = tf.tidy(() => [
      // means [2, 3] and [1, 1]: (2-1)^2 + (3-1)^2 = 5
      featureMatchingLoss(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
        tf.tensor2d([
          [0, 0],
          [2, 2],
        ]),
      ).dataSync()[0],
      // the same values as [n, 1, 2, 1] maps, and a fake batch of 1
      featureMatchingLoss(tf.tensor4d([1, 2, 3, 4], [2, 1, 2, 1]), tf.tensor4d([1, 1], [1, 1, 2, 1])).dataSync()[0],
    ]);
    expect(flat).toBeCloseTo(5, 6);
    expect(spatial).toBeCloseTo(5, 6);
    expect(tf.memory().numTensors).toBe(before);
    const [a, b] = [tf.zeros([2, 3]), tf.zeros([2, 4])];
    expect(() => featureMatchingLoss(a, b)).toThrow('expected real and fake features of one width, got 3 and 4');
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads a named D layer with D own weights; an unknown layer is a precise error', () => {
    const d = buildDiscriminator({ discriminatorFilters: 4, seed: 3 });
    const f = featureExtractor(d, 'd_flatten');
    expect(f.outputs[0].shape).toEqual([null, 7 * 7 * 8]);
    expect(f.trainableWeights.length).toBe(d.trainableWeights.length - 2);
    const before = tf.memory().numTensors;
    const [viaExtractor, viaD] = tf.tidy(() => {
      const x = tf.randomUniform([2, 28, 28, 1], -1, 1, 'float32', 1);
      const direct = tf.model({ inputs: d.inputs, outputs: d.getLayer('d_flatten').output });
      return [(f.predict(x) as tf.Tensor).dataSync(), (direct.predict(x) as tf.Tensor).dataSync()];
    });
    expect(Array.from(viaExtractor)).toEqual(Array.from(viaD));
    expect(tf.memory().numTensors).toBe(before);
    expect(() => featureExtractor(d, 'nope')).toThrow(/featureMatching.layer: expected one of image, d_down1, .*, got "nope"/);
    d.dispose();
  });
});
