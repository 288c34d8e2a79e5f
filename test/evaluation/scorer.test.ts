import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { createPrng } from '../../src/data/prng';
import { loadScorer, SCORER_MANIFEST_FILE, type Scorer } from '../../src/evaluation/scorer';
import type { ScorerManifest } from '../../src/evaluation/scorer-manifest';
import { saveLayersModel } from '../../src/models/io';
import { buildScorerCnn } from '../../src/models/scorer-cnn';

function manifest(overrides: Partial<ScorerManifest>): ScorerManifest {
  return {
    formatVersion: 1,
    name: 'test-scorer',
    dataset: 'mnist',
    classes: 10,
    inputShape: [28, 28, 1],
    inputRange: [-1, 1],
    model: { format: 'layers-model', path: '.', featureLayer: 'features' },
    testAccuracy: 0.5,
    testExamples: 10,
    training: { command: 'test', seed: 3, split: 'none' },
    ...overrides,
  };
}

function randomImages(n: number, pixels: number, seed: number): Float32Array {
  const p = createPrng(seed);
  return new Float32Array(n * pixels).map(() => p.next() * 2 - 1);
}

/** Nearest-neighbour 2x upscale of [n, 28, 28, c] images to [n, 56, 56, c]. */
function upscale2x(images: Float32Array, n: number, size: number, c: number): Float32Array {
  const out = new Float32Array(n * 4 * size * size * c);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < 2 * size; y++) {
      for (let x = 0; x < 2 * size; x++) {
        for (let k = 0; k < c; k++) {
          out[((i * 2 * size + y) * 2 * size + x) * c + k] = images[((i * size + (y >> 1)) * size + (x >> 1)) * c + k];
        }
      }
    }
  }
  return out;
}

/**
 * A tfjs graph model written by hand in the converter's format (a GraphDef as JSON plus a
 * weightsManifest): x [-1, 2, 2, 1] -> Reshape [-1, 4] -> MatMul W1 [4, 3] -> BiasAdd b1 -> Relu
 * ("hidden", the features) -> MatMul W2 [3, 2] -> BiasAdd b2 -> Softmax ("probs").
 */
function writeTinyGraphModel(dir: string): void {
  const float = { type: 'DT_FLOAT' };
  const dims = (...sizes: number[]): { dim: { size: string }[] } => ({ dim: sizes.map((s) => ({ size: String(s) })) });
  const constNode = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', ...shape: number[]): unknown => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: dims(...shape) } }, dtype: { type: dtype } },
  });
  // "NHWC" base64-encoded, as the converter writes string attributes.
  const nhwc = Buffer.from('NHWC').toString('base64');
  const modelTopology = {
    node: [
      { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(-1, 2, 2, 1) } } },
      constNode('flat/shape', 'DT_INT32', 2),
      constNode('W1', 'DT_FLOAT', 4, 3),
      constNode('b1', 'DT_FLOAT', 3),
      constNode('W2', 'DT_FLOAT', 3, 2),
      constNode('b2', 'DT_FLOAT', 2),
      { name: 'flat', op: 'Reshape', input: ['x', 'flat/shape'], attr: { T: float, Tshape: { type: 'DT_INT32' } } },
      { name: 'MatMul', op: 'MatMul', input: ['flat', 'W1'], attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } } },
      { name: 'BiasAdd', op: 'BiasAdd', input: ['MatMul', 'b1'], attr: { T: float, data_format: { s: nhwc } } },
      { name: 'hidden', op: 'Relu', input: ['BiasAdd'], attr: { T: float } },
      { name: 'MatMul_1', op: 'MatMul', input: ['hidden', 'W2'], attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } } },
      { name: 'BiasAdd_1', op: 'BiasAdd', input: ['MatMul_1', 'b2'], attr: { T: float, data_format: { s: nhwc } } },
      { name: 'probs', op: 'Softmax', input: ['BiasAdd_1'], attr: { T: float } },
    ],
    library: {},
    versions: { producer: 1482 },
  };
  const weights = [
    { name: 'flat/shape', shape: [2], dtype: 'int32', values: [-1, 4] },
    { name: 'W1', shape: [4, 3], dtype: 'float32', values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, -1] },
    { name: 'b1', shape: [3], dtype: 'float32', values: [0, 0.5, -1] },
    { name: 'W2', shape: [3, 2], dtype: 'float32', values: [1, -1, 0, 2, 1, 0] },
    { name: 'b2', shape: [2], dtype: 'float32', values: [0, 0.25] },
  ];
  const data = Buffer.concat(weights.map((w) => Buffer.from((w.dtype === 'int32' ? Int32Array.from(w.values) : Float32Array.from(w.values)).buffer)));
  writeFileSync(path.join(dir, 'group1-shard1of1.bin'), data);
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'hand-written for ganql tests',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
}

describe('scorer', () => {
  let layersDir: string;
  let reference: tf.LayersModel;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    layersDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorer-'));
    reference = buildScorerCnn({ filters1: 2, filters2: 4, featureUnits: 8, seed: 3 });
    await saveLayersModel(reference, layersDir);
    writeFileSync(path.join(layersDir, SCORER_MANIFEST_FILE), JSON.stringify(manifest({})));
  });

  afterAll(() => reference.dispose());

  it("loads a layers-model scorer whose probabilities and features equal the model's own outputs, leaking no tensors", async () => {
    const before = tf.memory().numTensors;
    const scorer = await loadScorer(layersDir);
    expect(scorer.featureSize).toBe(8);
    const n = 5;
    const images = randomImages(n, 784, 1);
    const out = await scorer.predict(images, n, [28, 28, 1], { batchSize: 2 });
    expect(out.probs.rows).toBe(n);
    expect(out.probs.cols).toBe(10);
    expect(out.features.cols).toBe(8);
    expect(out.probs.data).toBeInstanceOf(Float64Array);
    const [expectedProbs, expectedFeatures] = tf.tidy(() => {
      const x = tf.tensor4d(images, [n, 28, 28, 1]);
      const featureModel = tf.model({ inputs: reference.inputs, outputs: reference.getLayer('features').output });
      return [reference.predict(x) as tf.Tensor, featureModel.predict(x) as tf.Tensor];
    });
    const p = await expectedProbs.data();
    const f = await expectedFeatures.data();
    tf.dispose([expectedProbs, expectedFeatures]);
    for (let i = 0; i < p.length; i++) expect(out.probs.data[i]).toBeCloseTo(p[i], 6);
    for (let i = 0; i < f.length; i++) expect(out.features.data[i]).toBeCloseTo(f[i], 5);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let k = 0; k < 10; k++) s += out.probs.data[r * 10 + k];
      expect(s).toBeCloseTo(1, 5);
    }
    scorer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resizes bilinearly: a 2x nearest-upscaled 56x56 image scores like the 28x28 original', async () => {
    const scorer = await loadScorer(layersDir);
    const before = tf.memory().numTensors;
    const images = randomImages(3, 784, 2);
    const small = await scorer.predict(images, 3, [28, 28, 1]);
    const big = await scorer.predict(upscale2x(images, 3, 28, 1), 3, [56, 56, 1]);
    // With half-pixel centres each output pixel averages two equal source pixels: exact.
    for (let i = 0; i < small.probs.data.length; i++) expect(big.probs.data[i]).toBeCloseTo(small.probs.data[i], 6);
    for (let i = 0; i < small.features.data.length; i++) expect(big.features.data[i]).toBeCloseTo(small.features.data[i], 5);
    // A genuinely different size still runs and gives valid rows.
    const odd = await scorer.predict(randomImages(2, 20 * 20, 3), 2, [20, 20, 1]);
    expect(odd.probs.rows).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    scorer.dispose();
  });

  it("rescales images given in another range to the scorer's inputRange", async () => {
    const scorer = await loadScorer(layersDir);
    const images = randomImages(2, 784, 4);
    const unit = images.map((v) => (v + 1) / 2);
    const a = await scorer.predict(images, 2, [28, 28, 1]);
    const b = await scorer.predict(unit, 2, [28, 28, 1], { range: [0, 1] });
    for (let i = 0; i < a.probs.data.length; i++) expect(b.probs.data[i]).toBeCloseTo(a.probs.data[i], 6);
    scorer.dispose();
  });

  it('rejects images with incompatible channels or a wrong length, with a clear error', async () => {
    const scorer = await loadScorer(layersDir);
    const before = tf.memory().numTensors;
    await expect(scorer.predict(randomImages(1, 784 * 3, 5), 1, [28, 28, 3])).rejects.toThrow(
      'scorer test-scorer: predict: expected images with 1 channel, got 3',
    );
    await expect(scorer.predict(randomImages(1, 700, 5), 1, [28, 28, 1])).rejects.toThrow('expected 1 x 28 x 28 x 1 = 784 values, got 700');
    expect(tf.memory().numTensors).toBe(before);
    scorer.dispose();
  });

  it('tiles one-channel images for a three-channel scorer', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorer-rgb-'));
    const rgb = buildScorerCnn({ inputShape: [28, 28, 3], filters1: 2, filters2: 2, featureUnits: 4, seed: 5 });
    await saveLayersModel(rgb, dir);
    rgb.dispose();
    writeFileSync(path.join(dir, SCORER_MANIFEST_FILE), JSON.stringify(manifest({ inputShape: [28, 28, 3] })));
    const scorer = await loadScorer(dir);
    const gray = randomImages(2, 784, 6);
    const tiled = new Float32Array(2 * 784 * 3).map((_, i) => gray[Math.floor(i / 3)]);
    const a = await scorer.predict(gray, 2, [28, 28, 1]);
    const b = await scorer.predict(tiled, 2, [28, 28, 3]);
    for (let i = 0; i < a.probs.data.length; i++) expect(a.probs.data[i]).toBeCloseTo(b.probs.data[i], 6);
    await expect(scorer.predict(randomImages(1, 784 * 2, 1), 1, [28, 28, 2])).rejects.toThrow('expected images with 3 channels (or 1, tiled to 3), got 2');
    scorer.dispose();
  });

  it('loads a hand-written tfjs graph model and matches a hand computation', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorer-graph-'));
    writeTinyGraphModel(dir);
    writeFileSync(
      path.join(dir, SCORER_MANIFEST_FILE),
      JSON.stringify(
        manifest({
          name: 'tiny-graph',
          classes: 2,
          inputShape: [2, 2, 1],
          inputRange: [0, 10],
          model: { format: 'graph-model', path: '.', probabilitiesNode: 'probs', featuresNode: 'hidden' },
        }),
      ),
    );
    const before = tf.memory().numTensors;
    const scorer: Scorer = await loadScorer(dir);
    expect(scorer.featureSize).toBe(3);
    // Image [1, 2, 3, 4]: flat x = (1, 2, 3, 4).
    // x W1 = (1 + 4, 2 + 4, 3 - 4) = (5, 6, -1); + b1 (0, 0.5, -1) = (5, 6.5, -2); relu -> (5, 6.5, 0).
    // h W2 = (5*1 + 6.5*0 + 0*1, 5*(-1) + 6.5*2 + 0*0) = (5, 8); + b2 (0, 0.25) = (5, 8.25).
    // softmax: (1, e^3.25) / (1 + e^3.25).
    const out = await scorer.predict(new Float32Array([1, 2, 3, 4]), 1, [2, 2, 1]);
    expect(Array.from(out.features.data)).toEqual([5, 6.5, 0]);
    const e = Math.exp(3.25);
    expect(out.probs.data[0]).toBeCloseTo(1 / (1 + e), 6);
    expect(out.probs.data[1]).toBeCloseTo(e / (1 + e), 6);
    scorer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names what is wrong in a scorer folder', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorer-bad-'));
    await expect(loadScorer(dir)).rejects.toThrow(`loadScorer: cannot read ${path.join(dir, 'scorer.json')}`);
    writeFileSync(path.join(dir, SCORER_MANIFEST_FILE), JSON.stringify({ ...manifest({}), classes: 1 }));
    await expect(loadScorer(dir)).rejects.toThrow('scorer field "classes": expected an integer >= 2, got 1');
    writeFileSync(path.join(dir, SCORER_MANIFEST_FILE), JSON.stringify(manifest({ model: { format: 'onnx', path: '.' } as never })));
    await expect(loadScorer(dir)).rejects.toThrow('scorer field "model.format": expected "layers-model" or "graph-model", got "onnx"');

    const before = tf.memory().numTensors;
    const badLayer = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorer-bad-'));
    await saveLayersModel(reference, badLayer);
    writeFileSync(path.join(badLayer, SCORER_MANIFEST_FILE), JSON.stringify(manifest({ model: { format: 'layers-model', path: '.', featureLayer: 'nope' } })));
    await expect(loadScorer(badLayer)).rejects.toThrow(/model.featureLayer: expected one of the layers image, conv1, .*features.*, got "nope"/);
    writeFileSync(path.join(badLayer, SCORER_MANIFEST_FILE), JSON.stringify(manifest({ classes: 7 })));
    await expect(loadScorer(badLayer)).rejects.toThrow('probabilities: expected shape [1, 7] (classes), got [1, 10]');
    writeFileSync(path.join(badLayer, SCORER_MANIFEST_FILE), JSON.stringify(manifest({ inputShape: [32, 32, 1] })));
    await expect(loadScorer(badLayer)).rejects.toThrow("inputShape: expected the model's input [28, 28, 1], got [32, 32, 1]");

    const graphDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-scorer-bad-'));
    writeTinyGraphModel(graphDir);
    writeFileSync(
      path.join(graphDir, SCORER_MANIFEST_FILE),
      JSON.stringify(
        manifest({ classes: 2, inputShape: [2, 2, 1], model: { format: 'graph-model', path: '.', probabilitiesNode: 'probs', featuresNode: 'missing' } }),
      ),
    );
    await expect(loadScorer(graphDir)).rejects.toThrow(/missing/);
    writeFileSync(path.join(graphDir, 'group1-shard1of1.bin'), Buffer.alloc(8));
    await expect(loadScorer(graphDir)).rejects.toThrow(/weights of .*: expected 100 bytes, got 8/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
