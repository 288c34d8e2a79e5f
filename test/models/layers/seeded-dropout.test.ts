import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededDropout } from '../../../src/models/layers/seeded-dropout';
import { reseedNoise } from '../../../src/models/layers/seeded-random-layer';
import { buildMlpDiscriminator } from '../../../src/models/mlp-gan';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function run(layer: SeededDropout, x: tf.Tensor, training: boolean): Float32Array {
  const out = layer.apply(x, { training }) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

describe('SeededDropout', () => {
  it('is the identity at inference, and in training keeps about 1 - rate of the units scaled by 1 / (1 - rate)', () => {
    const before = tf.memory().numTensors;
    const layer = new SeededDropout({ rate: 0.5, seed: 7 });
    const x = tf.ones([100, 100]);
    expect(Array.from(run(layer, x, false)).every((v) => v === 1)).toBe(true);
    const out = run(layer, x, true);
    const kept = Array.from(out).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 2) < 1e-6)).toBe(true);
    expect(kept.length / out.length).toBeGreaterThan(0.47);
    expect(kept.length / out.length).toBeLessThan(0.53);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('draws a new mask on every call and step, and repeats a stream exactly', () => {
    const layer = new SeededDropout({ rate: 0.5, seed: 7 });
    const x = tf.ones([4, 64]);
    layer.reseed(3);
    const first = run(layer, x, true);
    const second = run(layer, x, true);
    expect(second).not.toEqual(first);
    layer.reseed(4);
    const otherStep = run(layer, x, true);
    expect(otherStep).not.toEqual(first);
    layer.reseed(3);
    expect(run(layer, x, true)).toEqual(first);
    expect(run(layer, x, true)).toEqual(second);
    x.dispose();
  });

  it("is what the MLP GAN's discriminator uses: reseeded per step by reseedNoise, and serialisable", () => {
    const d = buildMlpDiscriminator({ discriminatorUnits: 8, maxoutPieces: 2, seed: 1 });
    const dropouts = d.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
    expect(dropouts.map((l) => l.name)).toEqual(['d_dropout1', 'd_dropout2']);
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5);
    const logits = (stream: number): number[] => {
      reseedNoise(d, stream);
      const out = d.apply(x, { training: true }) as tf.Tensor;
      const values = Array.from(out.dataSync());
      out.dispose();
      return values;
    };
    expect(logits(1)).toEqual(logits(1));
    expect(logits(2)).not.toEqual(logits(1));
    const copy = tf.models.modelFromJSON({ modelTopology: d.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] });
    return copy.then((m) => {
      expect(m.getLayer('d_dropout1')).toBeInstanceOf(SeededDropout);
      m.dispose();
      x.dispose();
      d.dispose();
    });
  });
});
