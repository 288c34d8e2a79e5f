import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { findOptimalStimulus } from '../../../src/inference/ops/optimal-stimulus';

/** image [2, 2, 1] -> flatten -> dense with fixed weights w (and bias b): activation_j = w_j . x + b_j. */
function linearModel(weights: number[][], bias: number[], activation: 'linear' | 'sigmoid' = 'linear'): tf.LayersModel {
  const x = tf.input({ shape: [2, 2, 1] });
  const flat = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: weights[0].length, name: 'd', activation });
  const out = dense.apply(flat) as tf.SymbolicTensor;
  dense.setWeights([tf.tensor2d(weights), tf.tensor1d(bias)]);
  return tf.model({ inputs: x, outputs: out });
}

const norm = (v: Float32Array, c = 0): number => Math.sqrt(v.reduce((s, x) => s + (x - c) ** 2, 0));

describe('findOptimalStimulus', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  // Unit 1 has w = (3, -4, 0, 0) and b = 1: on the ball ||x|| <= 1 (inside the box [-1, 1]) the
  // maximum is x = w / ||w|| = (0.6, -0.8, 0, 0), activation 5 * 1 + 1 = 6.
  const W = [
    [1, 3],
    [1, -4],
    [1, 0],
    [1, 0],
  ];

  it('reaches the hand-computed maximum of a linear unit on the norm ball, and is feasible', () => {
    const model = linearModel(W, [0, 1]);
    const before = tf.memory().numTensors;
    const result = findOptimalStimulus(model, 1, { steps: 60, stepSize: 0.1, maxNorm: 1, inputRange: [-1, 1], seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.trace).toHaveLength(61);
    expect(result.activation).toBeCloseTo(6, 2);
    expect(result.image[0]).toBeCloseTo(0.6, 2);
    expect(result.image[1]).toBeCloseTo(-0.8, 2);
    expect(Math.abs(result.image[2])).toBeLessThan(0.02);
    expect(norm(result.image)).toBeLessThanOrEqual(1 + 1e-5);
    // The ascent went up: the start was near 0 (activation near b = 1).
    expect(result.trace[0]).toBeLessThan(1.2);
    expect(result.trace[60]).toBeGreaterThan(5.9);
    model.dispose();
  });

  it('measures the norm from a given centre image (the dataset mean): the optimum is c + r w / ||w||', () => {
    // Unit 1 again, c = (0.2, 0.3, -0.5, 0), r = 0.5: x = c + 0.5 (0.6, -0.8, 0, 0) = (0.5, -0.1, -0.5, 0),
    // activation 3 * 0.5 - 4 * -0.1 + 1 = 2.9 (= w.c + r ||w|| + b = -0.6 + 2.5 + 1).
    const model = linearModel(W, [0, 1]);
    const centre = Float32Array.of(0.2, 0.3, -0.5, 0);
    const result = findOptimalStimulus(model, 1, { steps: 60, stepSize: 0.05, maxNorm: 0.5, inputRange: [-1, 1], seed: 2, centre });
    expect(result.activation).toBeCloseTo(2.9, 2);
    expect(Array.from(result.image, (v) => Number(v.toFixed(2)) + 0)).toEqual([0.5, -0.1, -0.5, 0]);
    expect(Math.hypot(...result.image.map((v, i) => v - centre[i]))).toBeLessThanOrEqual(0.5 + 1e-5);
    expect(() =>
      findOptimalStimulus(model, 1, { steps: 1, stepSize: 0.1, maxNorm: 1, inputRange: [-1, 1], seed: 2, centre: Float32Array.of(0, 0, 0) }),
    ).toThrow('expected a centre of 4 values in [-1, 1], got 3 values');
    model.dispose();
  });

  it('stops at the box when the ball is wide: unit 0 (w = 1, 1, 1, 1) on [0, 2] goes to every pixel 2', () => {
    // Centre c = 1; ||x - c|| <= 10 never binds, so the optimum is the box corner x = 2, activation 8.
    const model = linearModel(W, [0, 1]);
    const result = findOptimalStimulus(model, 0, { steps: 40, stepSize: 0.5, maxNorm: 10, inputRange: [0, 2], seed: 1 });
    expect(Array.from(result.image)).toEqual([2, 2, 2, 2]);
    expect(result.activation).toBeCloseTo(8, 4);
    model.dispose();
  });

  it("maximises a feature map's spatial maximum, and is reproducible from the seed", () => {
    // A 1x1 conv with weight -1: map = -x, its maximum is -min(x); on [-1, 1] with a wide ball the
    // best image has some pixel at -1 (activation 1).
    const x = tf.input({ shape: [2, 2, 1] });
    const conv = tf.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false });
    const out = conv.apply(x) as tf.SymbolicTensor;
    conv.setWeights([tf.tensor4d([[[[-1]]]])]);
    const model = tf.model({ inputs: x, outputs: out });
    const options = { steps: 30, stepSize: 0.2, maxNorm: 5, inputRange: [-1, 1] as [number, number], seed: 7 };
    const a = findOptimalStimulus(model, 0, options);
    const b = findOptimalStimulus(model, 0, options);
    expect(a.activation).toBeCloseTo(1, 5);
    expect(Math.min(...a.image)).toBeCloseTo(-1, 5);
    expect(Array.from(b.image)).toEqual(Array.from(a.image));
    expect(b.trace).toEqual(a.trace);
    model.dispose();
  });

  it('climbs a saturating sigmoid unit on its pre-activation, past the point where float32 sigmoid rounds to 1', () => {
    // w = (30, -40, 0, 0), b = 0: the pre-activation 50 x.u (u = w / 50) is largest on the unit ball at
    // x = (0.6, -0.8, 0, 0). sigmoid(z) is 1.0 in float32 from z ~ 17, i.e. after ~4 steps of 0.1, where
    // the activation's gradient is 0: an ascent on the activation would stop near (0.2, -0.27).
    const model = linearModel([[30], [-40], [0], [0]], [0], 'sigmoid');
    const before = tf.memory().numTensors;
    const result = findOptimalStimulus(model, 0, { steps: 40, stepSize: 0.1, maxNorm: 1, inputRange: [-1, 1], seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.image[0]).toBeCloseTo(0.6, 2);
    expect(result.image[1]).toBeCloseTo(-0.8, 2);
    // The reported activation is the sigmoid's.
    expect(result.activation).toBe(1);
    expect(result.trace[0]).toBeCloseTo(0.5, 1);
    model.dispose();
  });

  it('refuses a neuron out of range and bad options', () => {
    const model = linearModel(W, [0, 1]);
    const before = tf.memory().numTensors;
    expect(() => findOptimalStimulus(model, 2, { steps: 1, stepSize: 1, maxNorm: 1, inputRange: [-1, 1], seed: 0 })).toThrow(
      /expected neuron in \[0, 1\], got 2/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() => findOptimalStimulus(model, 0, { steps: 0, stepSize: 1, maxNorm: 1, inputRange: [-1, 1], seed: 0 })).toThrow(/steps/);
    expect(() => findOptimalStimulus(model, 0, { steps: 1, stepSize: 1, maxNorm: 0, inputRange: [-1, 1], seed: 0 })).toThrow(/maxNorm/);
    expect(() => findOptimalStimulus(model, 0, { steps: 1, stepSize: 1, maxNorm: 1, inputRange: [1, -1], seed: 0 })).toThrow(/inputRange/);
    model.dispose();
  });
});
