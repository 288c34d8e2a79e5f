import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { FusedAdamOptimizer } from '../../../src/training/optim/fused-adam';
import { relativeDiff } from '../../helpers/compare';

/**
 * FusedAdamOptimizer (one GanqlAdamUpdate kernel per variable on wasm) against tf.train.adam on the
 * cpu backend: the same parameters after several steps of a small regression, within 1e-5 relative
 * (it rounds to float32 once per output, tfjs after every op), and the same optimizer state layout.
 */
const SHAPES = { w1: [5, 7], b1: [7], w2: [7, 1], unused: [3] };
const STEPS = 6;
const ADAM = [0.01, 0.5, 0.999, 1e-8] as const;

interface Problem {
  vars: Record<keyof typeof SHAPES, tf.Variable>;
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

function makeProblem(): Problem {
  const vars = Object.fromEntries(
    Object.entries(SHAPES).map(([name, shape], i) => [
      name,
      tf.variable(tf.randomNormal(shape, 0, 0.5, 'float32', 10 + i), true, `adam-test-${name}-${Math.random()}`),
    ]),
  ) as Problem['vars'];
  return { vars, x: tf.randomNormal<tf.Rank.R2>([16, 5], 0, 1, 'float32', 1), y: tf.randomNormal<tf.Rank.R2>([16, 1], 0, 1, 'float32', 2) };
}

/** Mean squared error of a 2-layer net; `unused` is in the var list but not the loss (no gradient). */
function loss(p: Problem): tf.Scalar {
  const hidden = tf.relu(tf.add(tf.matMul(p.x, p.vars.w1), p.vars.b1));
  return tf.mean(tf.square(tf.sub(tf.matMul(hidden, p.vars.w2), p.y)));
}

function train(p: Problem, optimizer: tf.Optimizer, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const cost = optimizer.minimize(() => loss(p), true, Object.values(p.vars)) as tf.Scalar;
    losses.push(cost.dataSync()[0]);
    cost.dispose();
  }
  return losses;
}

const values = (p: Problem): Float32Array[] => Object.values(p.vars).map((v) => v.dataSync() as Float32Array);

/** A large epsilon, so that inside or outside the root makes a difference the test can see. */
const ADAM_BIG_EPSILON = [0.01, 0.5, 0.999, 1e-2] as const;

describe('FusedAdamOptimizer', () => {
  let reference: { params: Float32Array[]; losses: number[]; weightNames: string[] };
  /** epsilonInside on cpu: the optimizer's own ops (no fused kernel there). */
  let inside: Float32Array[];

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    const p = makeProblem();
    const adam = tf.train.adam(...ADAM);
    const losses = train(p, adam, STEPS);
    const weights = await adam.getWeights();
    reference = { params: values(p), losses, weightNames: weights.map((w) => w.name.replace(/adam-test-(\w+)-[\d.]+/, '$1')) };
    adam.dispose();
    tf.dispose(Object.values(p.vars));
    const q = makeProblem();
    const insideAdam = new FusedAdamOptimizer(...ADAM_BIG_EPSILON, { epsilonInside: true });
    train(q, insideAdam, STEPS);
    inside = values(q);
    insideAdam.dispose();
    tf.dispose(Object.values(q.vars));
    await initBackend({ order: ['wasm'] });
  });

  it("with epsilon inside the root (the K+1 paper's Adam), the fused kernel matches the ops on cpu and differs from epsilon outside", () => {
    const run = (options: { epsilonInside?: boolean }) => {
      const p = makeProblem();
      const adam = new FusedAdamOptimizer(...ADAM_BIG_EPSILON, options);
      train(p, adam, STEPS);
      const out = values(p);
      adam.dispose();
      tf.dispose([...Object.values(p.vars), p.x, p.y]);
      return out;
    };
    const fused = run({ epsilonInside: true });
    fused.forEach((v, i) => expect(relativeDiff(v, inside[i])).toBeLessThanOrEqual(1e-5));
    const outside = run({});
    expect(Math.max(...outside.map((v, i) => relativeDiff(v, inside[i])))).toBeGreaterThan(1e-3);
  });

  it(`matches tf.train.adam on cpu after ${STEPS} steps, and leaves a variable without gradient alone`, async () => {
    const p = makeProblem();
    const unusedBefore = p.vars.unused.dataSync().slice();
    const adam = new FusedAdamOptimizer(...ADAM);
    const losses = train(p, adam, STEPS);
    losses.forEach((l, i) => expect(Math.abs(l - reference.losses[i])).toBeLessThanOrEqual(1e-5 * Math.abs(reference.losses[i])));
    values(p).forEach((v, i) => expect(relativeDiff(v, reference.params[i])).toBeLessThanOrEqual(1e-5));
    expect(Array.from(p.vars.unused.dataSync())).toEqual(Array.from(unusedBefore));
    const weights = await adam.getWeights();
    expect(weights.map((w) => w.name.replace(/adam-test-(\w+)-[\d.]+/, '$1'))).toEqual(reference.weightNames);
    weights[0].tensor.dispose();
    adam.dispose();
    tf.dispose([...Object.values(p.vars), p.x, p.y]);
  });

  it('resumes bit for bit from getWeights/setWeights', async () => {
    const straight = makeProblem();
    const resumed = makeProblem();
    const a = new FusedAdamOptimizer(...ADAM);
    train(straight, a, 5);
    const b = new FusedAdamOptimizer(...ADAM);
    train(resumed, b, 3);
    // A fresh optimizer given b's state continues as b would have.
    const state = await b.getWeights();
    const c = new FusedAdamOptimizer(...ADAM);
    await c.setWeights(state.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) })));
    train(resumed, c, 2);
    values(resumed).forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(values(straight)[i])));
    state[0].tensor.dispose();
    [a, b, c].forEach((o) => o.dispose());
    tf.dispose([...Object.values(straight.vars), ...Object.values(resumed.vars), straight.x, straight.y, resumed.x, resumed.y]);
  });

  it('runs one GanqlAdamUpdate per variable with a gradient, and leaks no tensors', async () => {
    const p = makeProblem();
    const adam = new FusedAdamOptimizer(...ADAM);
    train(p, adam, 1);
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => train(p, adam, 1));
    expect(info.kernels.filter((k) => k.name === 'GanqlAdamUpdate')).toHaveLength(3);
    expect(info.kernels.some((k) => k.name === 'Sqrt')).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    adam.dispose();
    tf.dispose([...Object.values(p.vars), p.x, p.y]);
  });
});
