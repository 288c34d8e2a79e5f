import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { initBackend } from '../../src/backend/backend';
import { loadLayersModel, saveLayersModel } from '../../src/models/io';
import { minibatchDiscrimination } from '../../src/models/layers/minibatch-discrimination';
import { seededDropout } from '../../src/models/layers/seeded-dropout';
import { seededGaussianNoise } from '../../src/models/layers/seeded-gaussian-noise';
import { weightNormDense } from '../../src/models/layers/weight-norm-dense';
import { EXPORTED_ACTIVATIONS } from '../../src/onnx/export-layers';
import { exportOnnx, ONNX_OPSET } from '../../src/onnx/export-onnx';
import { OnnxExportError } from '../../src/onnx/onnx-export-error';
import { OnnxSession } from '../../src/onnx/onnx-session';
import { seededNormal } from '../helpers/compare';
import { maxAbsDiff, randomizeBatchNorm } from '../helpers/generator';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';
import { predictFloats } from '../helpers/predict';

const { runtime, skipReason } = onnxRuntimeForTests('export-onnx.test');

/** ONNX Runtime's float32 kernels against tfjs's cpu backend: what the layers below must agree to. */
const TOLERANCE = 1e-5;

const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });

/** x -> layers in turn -> output, a functional model as ganql's builders make. */
function chain(inputShape: number[], layers: tf.layers.Layer[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: 'x' });
  let x = input;
  for (const layer of layers) x = layer.apply(x) as tf.SymbolicTensor;
  return tf.model({ name: 'chain', inputs: input, outputs: x });
}

/** Exports `model` (checking that no tensor leaks) and runs it on ONNX Runtime. */
async function runExported(model: tf.LayersModel, input: Float32Array, n: number): Promise<Float32Array> {
  const before = tf.memory().numTensors;
  const bytes = exportOnnx(model);
  expect(tf.memory().numTensors).toBe(before);
  const session = await OnnxSession.create(runtime!, bytes, { threads: 1 });
  try {
    return await session.run(input, n);
  } finally {
    await session.release();
  }
}

/** Max |ONNX Runtime - tfjs cpu| over n seeded inputs; fails past `tolerance` or on outputs that hardly vary (a test that could not fail). */
async function compare(model: tf.LayersModel, n: number, tolerance = TOLERANCE, seed = 1): Promise<number> {
  const shape = model.inputs[0].shape.slice(1) as number[];
  const input = seededNormal([n, ...shape], seed);
  const expected = predictFloats(model, input, n);
  const got = await runExported(model, input, n);
  expect(got).toHaveLength(expected.length);
  const diff = maxAbsDiff(got, expected);
  expect(diff).toBeLessThanOrEqual(tolerance);
  expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.05);
  return diff;
}

describe.skipIf(skipReason !== undefined)('exportOnnx on ONNX Runtime against tfjs (cpu backend)', () => {
  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
  });

  it.each(EXPORTED_ACTIVATIONS)('Dense with the %s activation', async (activation) => {
    const model = chain([7], [tf.layers.dense({ units: 5, activation: activation as 'linear', kernelInitializer: init(1), biasInitializer: init(2) })]);
    await compare(model, 3);
    model.dispose();
  });

  it('Dense without a bias, and on a rank-3 input (each row of the last axis)', async () => {
    const model = chain(
      [3, 4],
      [
        tf.layers.dense({ units: 6, useBias: false, kernelInitializer: init(3) }),
        tf.layers.dense({ units: 2, activation: 'tanh', kernelInitializer: init(4), biasInitializer: init(5) }),
        tf.layers.flatten(),
      ],
    );
    await compare(model, 2);
    model.dispose();
  });

  interface ConvCase {
    inputShape: number[];
    kernelSize: number | [number, number];
    strides: number | [number, number];
    padding: 'same' | 'valid';
    useBias?: false;
  }

  it.each<ConvCase>([
    { inputShape: [9, 9, 3], kernelSize: 3, strides: 1, padding: 'same' },
    { inputShape: [7, 7, 2], kernelSize: 5, strides: 2, padding: 'same' },
    { inputShape: [8, 6, 1], kernelSize: 3, strides: 2, padding: 'valid', useBias: false },
    { inputShape: [5, 7, 2], kernelSize: [2, 3], strides: [2, 1], padding: 'same' },
  ])('Conv2D on $inputShape, kernel $kernelSize, strides $strides, $padding, batch 1 and 3', async ({ inputShape, useBias, ...options }) => {
    const conv = tf.layers.conv2d({
      filters: 4,
      activation: 'relu',
      useBias: useBias ?? true,
      kernelInitializer: init(6),
      biasInitializer: init(7),
      ...options,
    });
    const model = chain(inputShape, [conv]);
    for (const n of [1, 3]) await compare(model, n);
    model.dispose();
  });

  // DCGAN's upsampling (7 -> 14, kernel 5, stride 2, 'same') first; then an even kernel on odd sizes, a
  // kernel smaller than the stride (ONNX needs output_padding), 'valid', and stride 1.
  it.each<ConvCase>([
    { inputShape: [7, 7, 8], kernelSize: 5, strides: 2, padding: 'same' },
    { inputShape: [3, 5, 2], kernelSize: 4, strides: 2, padding: 'same' },
    { inputShape: [4, 4, 3], kernelSize: 1, strides: 2, padding: 'same' },
    { inputShape: [3, 3, 2], kernelSize: 3, strides: 2, padding: 'valid' },
    { inputShape: [5, 5, 2], kernelSize: 3, strides: 1, padding: 'same', useBias: false },
  ])('Conv2DTranspose on $inputShape, kernel $kernelSize, strides $strides, $padding, batch 1 and 3', async ({ inputShape, useBias, ...options }) => {
    const deconv = tf.layers.conv2dTranspose({
      filters: 3,
      activation: 'tanh',
      useBias: useBias ?? true,
      kernelInitializer: init(8),
      biasInitializer: init(9),
      ...options,
    });
    const model = chain(inputShape, [deconv]);
    for (const n of [1, 3]) await compare(model, n);
    model.dispose();
  });

  it('BatchNormalization left unfolded: on the input, after a conv (channels-first) and after a dense', async () => {
    const model = chain(
      [6, 6, 2],
      [
        tf.layers.batchNormalization(),
        tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: init(10) }),
        tf.layers.batchNormalization(),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, kernelInitializer: init(11) }),
        tf.layers.batchNormalization(),
      ],
    );
    randomizeBatchNorm(model, 5);
    await compare(model, 3);
    model.dispose();
  });

  it('ReLU (plain and capped), LeakyReLU and Rescaling layers', async () => {
    const model = chain(
      [4, 4, 2],
      [
        tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: init(12) }),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.rescaling({ scale: 0.5, offset: -0.25 }),
        tf.layers.reLU({ maxValue: 0.4 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 6, kernelInitializer: init(13), biasInitializer: init(14) }),
        tf.layers.reLU(),
        tf.layers.rescaling({ scale: 2 }),
      ],
    );
    await compare(model, 3);
    model.dispose();
  });

  it('Reshape into feature maps and Flatten out of them (the layout changes at the edges of the convolutions)', async () => {
    const model = chain(
      [10],
      [
        tf.layers.dense({ units: 3 * 3 * 4, kernelInitializer: init(15) }),
        tf.layers.reshape({ targetShape: [3, 3, 4] }),
        tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(16) }),
        tf.layers.reshape({ targetShape: [6 * 6, 2] }),
        tf.layers.dense({ units: 3, kernelInitializer: init(17) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(18) }),
      ],
    );
    await compare(model, 2, TOLERANCE, 3);
    model.dispose();
  });

  it('dropout and noise layers are the identity at inference; WeightNormDense exports its effective kernel', async () => {
    const wn = weightNormDense({ units: 5, activation: 'relu', trainScale: true, seed: 4, name: 'wn' });
    const model = chain(
      [6],
      [
        seededGaussianNoise({ stddev: 0.3, seed: 1 }),
        wn,
        seededDropout({ rate: 0.5, seed: 2 }),
        tf.layers.dropout({ rate: 0.5 }),
        weightNormDense({ units: 3, activation: 'linear', trainScale: true, seed: 5 }),
      ],
    );
    // A scale g and bias b away from their initial 1 and 0, so a kernel that ignored them would differ.
    const [v] = wn.getWeights();
    const g = tf.tensor1d([0.5, 2, 1.5, 3, 0.7]);
    const b = tf.tensor1d([0.1, -0.2, 0.3, 0.05, -0.1]);
    wn.setWeights([v, g, b]);
    tf.dispose([g, b]);
    await compare(model, 4);
    model.dispose();
  });

  it('a Sequential model', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [5], units: 8, activation: 'relu', kernelInitializer: init(19) }),
        tf.layers.dense({ units: 3, kernelInitializer: init(20), biasInitializer: init(21) }),
      ],
    });
    await compare(model, 2);
    model.dispose();
  });

  it('writes opset 17, named input and output with a free batch dimension, and the same bytes for the same weights', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-onnx-'));
    try {
      const model = chain([4, 4, 1], [tf.layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: init(22) }), tf.layers.flatten()]);
      await saveLayersModel(model, dir);
      const bytes = exportOnnx(model, { inputName: 'image', outputName: 'features' });
      expect(Buffer.from(exportOnnx(model, { inputName: 'image', outputName: 'features' })).equals(Buffer.from(bytes))).toBe(true);
      // Loaded anew from its files: same weights, same bytes.
      const loaded = await loadLayersModel(dir);
      expect(Buffer.from(exportOnnx(loaded, { inputName: 'image', outputName: 'features' })).equals(Buffer.from(bytes))).toBe(true);
      // Other weights, other bytes.
      const [kernel, bias] = loaded.getWeights();
      const doubled = tf.mul(kernel, 2);
      loaded.layers[1].setWeights([doubled, bias]);
      doubled.dispose();
      expect(Buffer.from(exportOnnx(loaded, { inputName: 'image', outputName: 'features' })).equals(Buffer.from(bytes))).toBe(false);

      const proto = onnx.ModelProto.decode(bytes);
      expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
      const dims = (v: onnx.IValueInfoProto) => v.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
      expect(proto.graph?.input?.map((v) => [v.name, dims(v)])).toEqual([['image', ['batch', 4, 4, 1]]]);
      expect(proto.graph?.output?.map((v) => [v.name, dims(v)])).toEqual([['features', ['batch', 8]]]);
      expect(proto.graph?.node?.map((n) => n.opType)).toEqual(['Transpose', 'Conv', 'Transpose', 'Flatten', 'Identity']);
      model.dispose();
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a layer it cannot write, a merge, and an unknown activation, naming the layer', () => {
    const pooled = chain([4, 4, 1], [tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' })]);
    expect(() => exportOnnx(pooled)).toThrow(OnnxExportError);
    expect(() => exportOnnx(pooled)).toThrow(
      /^layer pool \(MaxPooling2D\) cannot be exported: the exporter writes Dense, WeightNormDense, Conv2D, Conv2DTranspose/,
    );
    pooled.dispose();

    const minibatch = chain([6], [minibatchDiscrimination({ kernels: 2, kernelDim: 3, name: 'mbd' })]);
    expect(() => exportOnnx(minibatch)).toThrow(/^layer mbd \(MinibatchDiscrimination\) cannot be exported/);
    minibatch.dispose();

    const input = tf.input({ shape: [3] });
    const a = tf.layers.dense({ units: 2, name: 'a' }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 2, name: 'b' }).apply(input) as tf.SymbolicTensor;
    const merged = tf.model({ inputs: input, outputs: tf.layers.add({ name: 'sum' }).apply([a, b]) as tf.SymbolicTensor });
    expect(() => exportOnnx(merged)).toThrow('layer sum (Add) cannot be exported: it reads 2 tensors (expected one: the exporter writes chains)');
    merged.dispose();

    const swish = chain([3], [tf.layers.dense({ units: 2, activation: 'swish', name: 'sw' })]);
    expect(() => exportOnnx(swish)).toThrow(`layer sw: activation "swish" cannot be exported (the exporter writes ${EXPORTED_ACTIVATIONS.join(', ')})`);
    swish.dispose();
  });
});
