import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadClassifier } from '../../src/inference/classifier';
import { loadLayersModel } from '../../src/models/io';
import { generatorOf, type ModelManifest } from '../../src/models/manifest';
import { loadServedGenerator } from '../../src/models/served-generator';
import { exportModelDir } from '../../src/onnx/export-model-dir';
import { exportOnnx } from '../../src/onnx/export-onnx';
import { OnnxSession } from '../../src/onnx/onnx-session';
import { relativeDiff, seededNormal } from '../helpers/compare';
import { maxAbsDiff } from '../helpers/generator';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';
import { predictFloats } from '../helpers/predict';

const { runtime, skipReason } = onnxRuntimeForTests('shipped-models.test');
const MODELS = path.resolve(__dirname, '../../models');

/** Every shipped model version: its folder and manifest. */
const shipped = readdirSync(MODELS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(MODELS, d.name, 'manifest.json')))
  .map((d) => ({ folder: path.join(MODELS, d.name), manifest: JSON.parse(readFileSync(path.join(MODELS, d.name, 'manifest.json'), 'utf8')) as ModelManifest }));

/**
 * Images (generator outputs in [-1, 1]) may differ by this much between the engines: float32 sums in
 * another order (the K+1 generator's 500-unit layers reach 1.1e-5); the PNG's 8-bit steps are 7.8e-3.
 */
const IMAGE_TOLERANCE = 2e-5;
/** Logits, relative to the largest. */
const LOGIT_TOLERANCE = 1e-5;

/**
 * `model` exported and run on ONNX Runtime on the n items at once, and each alone; then at once on a
 * 2-thread session, which must give the same values to the bit (a sample's bytes must not depend on
 * its batch or on GANQL_ONNX_THREADS).
 */
async function onOnnxRuntime(model: tf.LayersModel, input: Float32Array, n: number): Promise<{ batch: Float32Array; oneByOne: Float32Array[] }> {
  const bytes = exportOnnx(model);
  const session = await OnnxSession.create(runtime!, bytes, { threads: 1 });
  const twoThreads = await OnnxSession.create(runtime!, bytes, { threads: 2 });
  try {
    const batch = await session.run(input, n);
    const size = input.length / n;
    const oneByOne: Float32Array[] = [];
    for (let i = 0; i < n; i++) oneByOne.push(await session.run(input.slice(i * size, (i + 1) * size), 1));
    expect(await twoThreads.run(input, n)).toEqual(batch);
    return { batch, oneByOne };
  } finally {
    await session.release();
    await twoThreads.release();
  }
}

describe.skipIf(skipReason !== undefined)('the shipped models exported to ONNX, on ONNX Runtime against tfjs (cpu backend)', () => {
  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
  });

  it('finds the shipped models', () => {
    expect(shipped.map((m) => m.manifest.name).sort()).toEqual(['dcgan-fashion-mnist', 'dcgan-mnist', 'mnist-autoencoder', 'mnist-kplusone', 'mnist-mlp-gan']);
  });

  it.each(shipped.filter((m) => generatorOf(m.manifest) !== undefined))(
    '$manifest.name: the served generator, batch 1 and 64, 1 and 2 threads, each image the same in a batch as alone',
    async ({ folder, manifest }) => {
      const network = generatorOf(manifest)!;
      const generator = await loadServedGenerator(path.resolve(folder, network.path));
      const n = 64;
      const latents = seededNormal([n, network.latentSize], 7);
      const expected = predictFloats(generator, latents, n);
      const { batch, oneByOne } = await onOnnxRuntime(generator, latents, n);
      const diff = maxAbsDiff(batch, expected);
      console.log(`${manifest.name} generator: ONNX Runtime vs tfjs cpu, max abs diff ${diff.toExponential(2)} over ${n} images`);
      expect(diff).toBeLessThanOrEqual(IMAGE_TOLERANCE);
      const size = batch.length / n;
      oneByOne.forEach((image, i) => expect(maxAbsDiff(image, batch.subarray(i * size, (i + 1) * size))).toBe(0));
      // From the folder, the same bytes as from the served network in memory.
      const fromDir = await exportModelDir(path.resolve(folder, network.path));
      expect(Buffer.from(fromDir).equals(Buffer.from(exportOnnx(generator)))).toBe(true);
      generator.dispose();
    },
  );

  it.each(shipped.filter((m) => m.manifest.classifier !== undefined))(
    '$manifest.name: the served K+1 classifier, batch 1 and 64, 1 and 2 threads',
    async ({ folder, manifest }) => {
      const spec = { dir: path.resolve(folder, manifest.classifier!.path), imageShape: manifest.imageShape, classes: manifest.classifier!.classes.length };
      const classifier = await loadClassifier(spec);
      const n = 64;
      // Images in the classifier's input range [-1, 1].
      const images = seededNormal([n, ...manifest.imageShape], 8).map((v) => Math.tanh(v));
      const expected = predictFloats(classifier, images, n);
      const { batch, oneByOne } = await onOnnxRuntime(classifier, images, n);
      const diff = maxAbsDiff(batch, expected);
      console.log(
        `${manifest.name} classifier: ONNX Runtime vs tfjs cpu, max abs diff ${diff.toExponential(2)} over ${n} x ${spec.classes} logits (largest ${Math.max(...expected.map(Math.abs)).toFixed(1)})`,
      );
      expect(relativeDiff(batch, expected)).toBeLessThanOrEqual(LOGIT_TOLERANCE);
      const size = batch.length / n;
      oneByOne.forEach((logits, i) => expect(maxAbsDiff(logits, batch.subarray(i * size, (i + 1) * size))).toBe(0));
      classifier.dispose();
    },
  );

  it('mnist-kplusone: its discriminator folder as saved (weight-normalised dense layers, noise layers) exports to the logits tfjs computes at inference', async () => {
    const { folder, manifest } = shipped.find((m) => m.manifest.name === 'mnist-kplusone')!;
    const dir = path.resolve(folder, manifest.discriminatorPath!);
    const saved = await loadLayersModel(dir);
    const images = seededNormal([4, ...manifest.imageShape], 9).map((v) => Math.tanh(v));
    const expected = predictFloats(saved, images, 4);
    const session = await OnnxSession.create(runtime!, await exportModelDir(dir), { threads: 1 });
    const got = await session.run(images, 4);
    await session.release();
    expect(relativeDiff(got, expected)).toBeLessThanOrEqual(LOGIT_TOLERANCE);
    saved.dispose();
  });
});
