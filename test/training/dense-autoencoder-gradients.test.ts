import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { reseedNoise } from '../../src/models/layers/seeded-random-layer';
import { buildDecoder, buildEncoder, sparseLayerNames, type SparseAutoencoderConfig } from '../../src/models/sparse-autoencoder';
import { AutoencoderTrainer, klSparsityPenalty, reconstructionLoss, type AutoencoderTrainerOptions } from '../../src/training/autoencoder-trainer';
import { denseAutoencoderChain, denseAutoencoderStep } from '../../src/training/dense-autoencoder-gradients';
import { relativeDiff, seededNormal } from '../helpers/compare';

/**
 * The sparse autoencoder's hand-derived gradients (src/training/dense-autoencoder-gradients.ts)
 * against tfjs's autodiff of the same loss, written here from the exported loss terms: every
 * variable's gradient within GRADIENT_TOLERANCE of its largest value (float32, the same sums in
 * another order), then whole trainer steps against a trainer on the tape, on the cpu backend and on
 * wasm with the native kernels.
 */
const GRADIENT_TOLERANCE = 1e-5;
/** Weights after 3 Adam steps at lr 0.003: each step moves a weight by up to about lr. */
const WEIGHT_TOLERANCE = 1e-6;
const LOSS_TOLERANCE = 1e-5;

interface Setup {
  name: string;
  config: Partial<SparseAutoencoderConfig>;
  batch: number;
  /** undefined: every encoder layer (sparseLayerNames). */
  sparse?: string[];
  sparsityWeight: number;
}

const setups: Setup[] = [
  { name: 'the shipped network (784-256-16, noise 0.5), batch 100', config: { hiddenUnits: [256], codeSize: 16, seed: 42 }, batch: 100, sparsityWeight: 1 },
  {
    name: 'odd sizes 5x5-37-19-7, two hidden layers, all three sparse, batch 3',
    config: { imageSize: 5, hiddenUnits: [37, 19], codeSize: 7, seed: 3 },
    batch: 3,
    sparsityWeight: 0.7,
  },
  { name: 'batch 1', config: { imageSize: 5, hiddenUnits: [11], codeSize: 3, seed: 5 }, batch: 1, sparsityWeight: 2 },
  { name: 'sparsity weight 0', config: { imageSize: 7, hiddenUnits: [13], codeSize: 5, seed: 6 }, batch: 4, sparsityWeight: 0 },
  {
    name: 'no noise layer, one hidden layer sparse (listed twice), the code not',
    config: { imageSize: 6, hiddenUnits: [9, 8], codeSize: 4, inputNoise: 0, seed: 7 },
    batch: 5,
    sparse: ['enc_hidden2', 'enc_hidden2'],
    sparsityWeight: 1.5,
  },
  { name: 'no hidden layer, no sparse layer', config: { imageSize: 4, hiddenUnits: [], codeSize: 6, seed: 8 }, batch: 2, sparse: [], sparsityWeight: 1 },
];

const options = (s: Setup): AutoencoderTrainerOptions => ({
  batchSize: s.batch,
  learningRate: 0.003,
  beta1: 0.9,
  seed: 1,
  sparseLayers: s.sparse ?? sparseLayerNames(s.config),
  sparsityTarget: 0.1,
  sparsityWeight: s.sparsityWeight,
});

/** Images in [-1, 1] (tanh of normal values), `count` of them. */
function images(s: Setup, count: number, seed: number): { values: Float32Array; shape: [number, number, number] } {
  const side = s.config.imageSize ?? 28;
  return { values: seededNormal([count * side * side], seed).map(Math.tanh), shape: [side, side, 1] };
}

/** tfjs's autodiff of the trainer's loss: the reference. */
function tapeGradients(
  encoder: tf.LayersModel,
  decoder: tf.LayersModel,
  batch: tf.Tensor4D,
  o: AutoencoderTrainerOptions,
): { loss: number[]; grads: Map<string, Float32Array> } {
  // The code first, then each other sparse layer once (tf.model refuses an output listed twice).
  const outputs = [encoder.outputs[0]];
  for (const name of o.sparseLayers) {
    const output = encoder.getLayer(name).output as tf.SymbolicTensor;
    if (!outputs.includes(output)) outputs.push(output);
  }
  const probe = tf.model({ inputs: encoder.inputs, outputs });
  let loss: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = probe.apply(batch, { training: true }) as tf.Tensor | tf.Tensor[];
    const all = Array.isArray(out) ? out : [out];
    const code = all[0];
    const activations = o.sparseLayers.map((n) => all[outputs.indexOf(encoder.getLayer(n).output as tf.SymbolicTensor)] as tf.Tensor2D);
    const mse = reconstructionLoss(decoder.apply(code, { training: true }) as tf.Tensor, batch);
    const penalty =
      o.sparsityWeight === 0 || activations.length === 0 ? tf.scalar(0) : tf.mul(klSparsityPenalty(activations, o.sparsityTarget), o.sparsityWeight);
    loss = tf.keep(tf.stack([mse, penalty]));
    return tf.add<tf.Scalar>(mse, penalty);
  });
  const out = new Map(Object.entries(grads).map(([name, g]) => [name, g.dataSync() as Float32Array]));
  const lossValues = Array.from((loss as unknown as tf.Tensor).dataSync());
  tf.dispose([value, grads, loss]);
  return { loss: lossValues, grads: out };
}

describe.each([
  { backend: 'cpu' as const, nativeThreads: undefined },
  { backend: 'wasm' as const, nativeThreads: 2 },
])('explicit autoencoder gradients vs autodiff on $backend', ({ backend, nativeThreads }) => {
  beforeAll(async () => {
    const info = await initBackend({ order: [backend], ...(nativeThreads !== undefined ? { nativeThreads } : {}) });
    if (nativeThreads !== undefined) expect(info.native).toHaveProperty('isa');
  });

  for (const s of setups) {
    it(`${s.name}: losses and every gradient agree, no tensor leaks`, () => {
      const o = options(s);
      const encoder = buildEncoder(s.config);
      const decoder = buildDecoder(s.config);
      const { values, shape } = images(s, s.batch, 11);
      const batch = tf.tensor4d(values, [s.batch, ...shape]);
      const chain = denseAutoencoderChain(encoder, decoder, o.sparseLayers);
      if (typeof chain === 'string') throw new Error(chain);
      const before = tf.memory().numTensors;

      reseedNoise(encoder, 4);
      const tape = tapeGradients(encoder, decoder, batch, o);
      reseedNoise(encoder, 4);
      const explicit = tf.tidy(() => {
        const step = denseAutoencoderStep(chain, batch, o);
        return { loss: tf.stack([step.mse, step.penalty]), grads: [...step.gradients].map(([v, g]) => ({ name: v.name, g })) };
      });
      const loss = Array.from(explicit.loss.dataSync());
      const grads = new Map(explicit.grads.map(({ name, g }) => [name, g.dataSync() as Float32Array]));
      tf.dispose([explicit.loss, ...explicit.grads.map(({ g }) => g)]);
      expect(tf.memory().numTensors).toBe(before);

      expect(Math.abs(loss[0] - tape.loss[0])).toBeLessThanOrEqual(LOSS_TOLERANCE * tape.loss[0]);
      expect(Math.abs(loss[1] - tape.loss[1])).toBeLessThanOrEqual(LOSS_TOLERANCE * Math.max(tape.loss[1], 1e-6));
      if (s.sparsityWeight === 0 || o.sparseLayers.length === 0) expect(loss[1]).toBe(0);
      else expect(loss[1]).toBeGreaterThan(0);
      // Every trainable variable of both networks, each with a gradient that is not all zeros.
      // LayerVariable.read() is the backing tf.Variable, typed as a Tensor.
      const variables = [...encoder.trainableWeights, ...decoder.trainableWeights].map((w) => (w.read() as tf.Variable).name);
      expect([...grads.keys()].sort()).toEqual([...variables].sort());
      for (const name of variables) {
        const reference = tape.grads.get(name);
        if (reference === undefined) throw new Error(`autodiff gave no gradient for ${name}`);
        expect(reference.some((v) => v !== 0)).toBe(true);
        expect(relativeDiff(grads.get(name) as Float32Array, reference), name).toBeLessThan(GRADIENT_TOLERANCE);
      }
      batch.dispose();
      encoder.dispose();
      decoder.dispose();
    });
  }

  it('three trainer steps: the same losses and weights as a trainer on the tape, no tensor leaks', () => {
    for (const s of setups.slice(1)) {
      const o = options(s);
      const { values, shape } = images(s, 3 * s.batch, 12);
      const data = { images: values, count: 3 * s.batch, shape };
      const before = tf.memory().numTensors;
      const run = (tapeGradients: boolean) => {
        const encoder = buildEncoder(s.config);
        const decoder = buildDecoder(s.config);
        const trainer = new AutoencoderTrainer(encoder, decoder, data, { ...o, tapeGradients });
        const losses = [0, 1, 2].map((step) => {
          const batch = tf.tensor4d(values.subarray((step * s.batch * values.length) / data.count, ((step + 1) * s.batch * values.length) / data.count), [
            s.batch,
            ...shape,
          ]);
          const stats = trainer.trainStep(batch, step);
          batch.dispose();
          return stats;
        });
        const weights = [...encoder.getWeights(), ...decoder.getWeights()].map((w) => w.dataSync() as Float32Array);
        const path = trainer.gradientPath;
        trainer.dispose();
        encoder.dispose();
        decoder.dispose();
        return { losses, weights, path };
      };
      const explicit = run(false);
      const tape = run(true);
      expect(explicit.path).toEqual({ kind: 'explicit' });
      expect(tape.path).toEqual({ kind: 'tape', reason: 'tapeGradients is set' });
      explicit.losses.forEach((l, i) => {
        expect(Math.abs(l.reconstruction - tape.losses[i].reconstruction), `${s.name}: MSE of step ${i + 1}`).toBeLessThanOrEqual(
          LOSS_TOLERANCE * tape.losses[i].reconstruction,
        );
        expect(Math.abs(l.sparsity - tape.losses[i].sparsity), `${s.name}: penalty of step ${i + 1}`).toBeLessThanOrEqual(
          LOSS_TOLERANCE * Math.max(tape.losses[i].sparsity, 1e-6),
        );
      });
      explicit.weights.forEach((w, i) => {
        let diff = 0;
        w.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - tape.weights[i][j]))));
        expect(diff, `${s.name}: weight ${i}`).toBeLessThanOrEqual(WEIGHT_TOLERANCE);
      });
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('when the explicit gradients apply', () => {
  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
  });

  const o: AutoencoderTrainerOptions = {
    batchSize: 2,
    learningRate: 0.001,
    beta1: 0.9,
    seed: 1,
    sparseLayers: ['enc_code'],
    sparsityTarget: 0.1,
    sparsityWeight: 1,
  };
  const data = { images: new Float32Array(4 * 16), count: 4, shape: [4, 4, 1] as [number, number, number] };
  const config = { imageSize: 4, hiddenUnits: [5], codeSize: 3 };

  it('the networks of an autoencoder training job: explicit', () => {
    const encoder = buildEncoder(config);
    const decoder = buildDecoder(config);
    expect(new AutoencoderTrainer(encoder, decoder, data, o).gradientPath).toEqual({ kind: 'explicit' });
    encoder.dispose();
    decoder.dispose();
  });

  it('other layers, activations or sparse layers fall back to the tape, saying why', () => {
    // Each model its own layers: disposing a model disposes them.
    const flatImage = () => {
      const image = tf.input({ shape: [4, 4, 1] });
      return { image, flat: tf.layers.flatten().apply(image) as tf.SymbolicTensor };
    };
    const a = flatImage();
    const eluEncoder = tf.model({
      inputs: a.image,
      outputs: tf.layers.dense({ units: 3, activation: 'elu', name: 'enc_elu' }).apply(a.flat) as tf.SymbolicTensor,
    });
    const b = flatImage();
    const dropped = tf.layers.dropout({ rate: 0.5, name: 'enc_drop' }).apply(b.flat) as tf.SymbolicTensor;
    const dropEncoder = tf.model({ inputs: b.image, outputs: tf.layers.dense({ units: 3, activation: 'sigmoid' }).apply(dropped) as tf.SymbolicTensor });
    const encoder = buildEncoder(config);
    const decoder = buildDecoder(config);
    expect(new AutoencoderTrainer(eluEncoder, decoder, data, { ...o, sparseLayers: [] }).gradientPath).toEqual({
      kind: 'tape',
      reason: 'encoder: dense layer enc_elu has activation "elu" (expected linear, sigmoid, relu, tanh)',
    });
    expect(new AutoencoderTrainer(dropEncoder, decoder, data, { ...o, sparseLayers: [] }).gradientPath).toEqual({
      kind: 'tape',
      reason: 'encoder: layer enc_drop is a Dropout, which the explicit gradients do not cover',
    });
    expect(new AutoencoderTrainer(encoder, decoder, data, { ...o, sparseLayers: ['enc_flatten'] }).gradientPath).toEqual({
      kind: 'tape',
      reason: 'sparse layer enc_flatten is not a dense layer of the encoder',
    });
    [eluEncoder, dropEncoder, encoder, decoder].forEach((m) => m.dispose());
  });
});
