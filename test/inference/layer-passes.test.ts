import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadTrainingData } from '../../src/data/training-data';
import { ActivationModels, generatorChain, runFeaturePass, runGeneratorWalk } from '../../src/inference/layer-passes';
import { runGenerator } from '../../src/inference/run-generator';
import { WorkerExecutor } from '../../src/inference/worker-executor';
import { loadLayersModel } from '../../src/models/io';
import { loadServedGenerator } from '../../src/models/served-generator';
import { maxAbsDiff, seededLatents } from '../helpers/generator';

const MODEL = path.resolve(__dirname, '../../models/dcgan-mnist');
const ID = 'dcgan-mnist@test';

/** The shipped DCGAN's discriminator and generator read layer by layer, on a worker and on this thread. */
describe('layer passes on the shipped DCGAN', () => {
  let executor: WorkerExecutor;
  let discriminator: tf.LayersModel;
  let generator: tf.LayersModel;
  let images: Float32Array;
  const n = 6;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    discriminator = await loadLayersModel(path.join(MODEL, 'discriminator'));
    generator = await loadServedGenerator(path.join(MODEL, 'generator'));
    images = (await loadTrainingData('mnist', 'test', { limit: n })).images;
    executor = await WorkerExecutor.create({
      workers: 1,
      models: [{ id: ID, dir: path.join(MODEL, 'generator'), features: { dir: path.join(MODEL, 'discriminator'), inputRange: [-1, 1] } }],
    });
  });

  afterAll(async () => {
    await executor?.close();
    discriminator?.dispose();
    generator?.dispose();
  });

  it('reads a conv layer per neuron (spatial maximum) and in full, as the layer computes it', async () => {
    const direct = tf.tidy(() => {
      const sub = tf.model({ inputs: discriminator.inputs, outputs: discriminator.getLayer('d_down2_lrelu').output });
      const out = sub.predict(tf.tensor(images, [n, 28, 28, 1])) as tf.Tensor4D;
      return [out.reshape([n, -1]), out.max([1, 2])];
    });
    const [full, maxima] = await Promise.all(direct.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose(direct);
    const neurons = await executor.layerPass(ID, { kind: 'neurons', layer: 'd_down2_lrelu' }, images.slice(), n);
    const maps = await executor.layerPass(ID, { kind: 'featureMaps', layer: 'd_down2_lrelu' }, images.slice(), n);
    expect(neurons).toHaveLength(n * 128);
    expect(maps).toHaveLength(n * 7 * 7 * 128);
    expect(maxAbsDiff(neurons, maxima)).toBeLessThan(1e-4);
    expect(maxAbsDiff(maps, full)).toBeLessThan(1e-4);
    await expect(executor.layerPass(ID, { kind: 'neurons', layer: 'nope' }, images.slice(), n)).rejects.toThrow(
      /expected a layer of .* among .*d_down1.*, got "nope"/,
    );
  });

  it('zeroes chosen generator feature maps: none removed is the plain generator, all removed leaves only the last bias', async () => {
    const latents = seededLatents(n, 100, 3);
    const plain = await runGenerator(generator, latents, n);
    const walked = await runGeneratorWalk(generator, latents, n, { layer: 'g_up1_relu', remove: [] });
    expect(maxAbsDiff(walked, plain)).toBeLessThan(1e-5);
    const all = Array.from({ length: 64 }, (_, i) => i);
    const blank = await executor.generate(ID, latents.slice(), n, { layer: 'g_up1_relu', filters: all });
    // With every input map zero, the last transposed conv outputs tanh(bias) at every pixel.
    const bias = (await generator.getLayer('g_up2').getWeights()[1].data())[0];
    expect(Math.max(...blank.map((v) => Math.abs(v - Math.tanh(bias))))).toBeLessThan(1e-5);
    const some = await executor.generate(ID, latents.slice(), n, { layer: 'g_up1_relu', filters: [0, 5, 9] });
    expect(maxAbsDiff(some, plain)).toBeGreaterThan(1e-3);
    await expect(executor.generate(ID, latents.slice(), n, { layer: 'g_up1_relu', filters: [64] })).rejects.toThrow(
      'expected filters of g_up1_relu in 0..63, got 64',
    );
  });

  it('averages generator feature maps over space', async () => {
    const latents = seededLatents(n, 100, 4);
    const means = await executor.layerPass(ID, { kind: 'generatorMeans', layer: 'g_up1_relu' }, latents.slice(), n);
    const direct = tf.tidy(() => {
      const sub = tf.model({ inputs: generator.inputs, outputs: generator.getLayer('g_up1_relu').output });
      return (sub.predict(tf.tensor2d(latents, [n, 100])) as tf.Tensor).mean([1, 2]);
    });
    const expected = (await direct.data()) as Float32Array;
    direct.dispose();
    expect(means).toHaveLength(n * 64);
    expect(maxAbsDiff(means, expected)).toBeLessThan(1e-5);
    expect(generatorChain(generator).map((l) => l.name)).toEqual(['g_project', 'g_project_relu', 'g_reshape', 'g_up1', 'g_up1_relu', 'g_up2']);
  });

  it('finds an optimal stimulus on a worker that activates its neuron more than test images of the same norm bound, without leaking', async () => {
    const norms = Array.from({ length: n }, (_, i) => Math.hypot(...images.subarray(i * 784, (i + 1) * 784)));
    const maxNorm = Math.max(...norms);
    const before = executor.tensorCount();
    const result = await executor.optimalStimulus(ID, { layer: 'd_down2_lrelu', neuron: 7, steps: 40, stepSize: 1, maxNorm, seed: 1 });
    expect(result.image).toHaveLength(784);
    expect(Math.hypot(...result.image)).toBeLessThanOrEqual(maxNorm * 1.0001);
    const neurons = await executor.layerPass(ID, { kind: 'neurons', layer: 'd_down2_lrelu' }, images.slice(), n);
    const best = Math.max(...Array.from({ length: n }, (_, i) => neurons[i * 128 + 7]));
    expect(result.activation).toBeGreaterThan(best);
    // The reported activation is the network's own for the returned image.
    const again = await executor.layerPass(ID, { kind: 'neurons', layer: 'd_down2_lrelu' }, result.image.slice(), 1);
    expect(Math.abs(again[7] - result.activation)).toBeLessThan(1e-3 * Math.max(1, Math.abs(result.activation)));
    await executor.optimalStimulus(ID, { layer: 'd_down2_lrelu', neuron: 7, steps: 5, stepSize: 1, maxNorm, seed: 2 });
    expect(executor.tensorCount()).toBe(before);
  });

  it('reads layers on this thread as on the worker', async () => {
    const models = new ActivationModels();
    const here = await runFeaturePass(models, discriminator, { kind: 'neurons', layer: 'd_down1_lrelu' }, images, n);
    const there = await executor.layerPass(ID, { kind: 'neurons', layer: 'd_down1_lrelu' }, images.slice(), n);
    expect(maxAbsDiff(here, there)).toBeLessThan(1e-5);
  });
});

describe('pre-activations of a dense layer', () => {
  it('are what its sigmoid turns into its activations (the shipped autoencoder encoder)', async () => {
    await initBackend({ order: ['wasm'] });
    const encoder = await loadLayersModel(path.resolve(__dirname, '../../models/mnist-autoencoder/encoder'));
    try {
      const n = 4;
      const images = (await loadTrainingData('mnist', 'test', { limit: n })).images;
      const models = new ActivationModels();
      const pre = await runFeaturePass(models, encoder, { kind: 'preActivations', layer: 'enc_hidden1' }, images, n);
      const post = await runFeaturePass(models, encoder, { kind: 'neurons', layer: 'enc_hidden1' }, images, n);
      expect(pre).toHaveLength(post.length);
      expect(
        maxAbsDiff(
          pre.map((z) => 1 / (1 + Math.exp(-z))),
          post,
        ),
      ).toBeLessThan(1e-5);
      await expect(runFeaturePass(models, encoder, { kind: 'preActivations', layer: 'enc_flatten' }, images, n)).rejects.toThrow(
        'expected a Dense layer for pre-activations, got Flatten layer enc_flatten',
      );
    } finally {
      encoder.dispose();
    }
  });
});
