import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { HistoricalAverage } from '../../../src/training/techniques/historical-averaging';

describe('historical averaging', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('is zero at step 1, ||theta - running mean||^2 after two updates, with gradient 2(theta - mean), and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const [w, b] = tf.tidy(() => [tf.variable(tf.tensor1d([1, 2])), tf.variable(tf.scalar(5))]);
    const ha = new HistoricalAverage([w, b]);
    expect(() => ha.penalty()).toThrow('expected update() to have run at least once, got 0 updates');
    ha.update();
    const p1 = ha.penalty();
    expect(p1.dataSync()[0]).toBe(0);
    p1.dispose();
    tf.tidy(() => {
      w.assign(tf.tensor1d([3, 6]));
      b.assign(tf.scalar(8));
    });
    ha.update();
    expect(ha.count).toBe(2);
    // means: w (1+3)/2, (2+6)/2 = [2, 4]; b (5+8)/2 = 6.5
    const means = ha.snapshot();
    expect(Array.from(means[0].dataSync())).toEqual([2, 4]);
    expect(means[1].dataSync()[0]).toBe(6.5);
    tf.dispose(means);
    const p2 = ha.penalty();
    // (3-2)^2 + (6-4)^2 + (8-6.5)^2 = 1 + 4 + 2.25
    expect(p2.dataSync()[0]).toBeCloseTo(7.25, 6);
    p2.dispose();
    const { value, grads } = tf.variableGrads(() => ha.penalty(), [w, b]);
    expect(Array.from(grads[w.name].dataSync())).toEqual([2, 4]);
    expect(grads[b.name].dataSync()[0]).toBeCloseTo(3, 6);
    value.dispose();
    tf.dispose(Object.values(grads));
    // Third update: the mean of three snapshots.
    tf.tidy(() => w.assign(tf.tensor1d([5, 10])));
    ha.update();
    const m3 = ha.snapshot();
    expect(Array.from(m3[0].dataSync())).toEqual([3, 6]);
    tf.dispose(m3);
    ha.dispose();
    w.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('holds exactly one tensor per parameter between steps', () => {
    const w = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
    const before = tf.memory().numTensors;
    const ha = new HistoricalAverage([w]);
    expect(tf.memory().numTensors).toBe(before + 1);
    for (let i = 0; i < 3; i++) {
      ha.update();
      tf.dispose(ha.penalty());
      expect(tf.memory().numTensors).toBe(before + 1);
    }
    ha.dispose();
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});
