/**
 * How far ONNX Runtime's images and logits are from the tfjs path's, per shipped model, as
 * docs/operations.md reports them.
 *
 *   npx tsx scripts/engine-diff.ts [--models models] [--samples 1024] [--backend wasm]
 *
 * For each model version under --models: its served generator on --samples seeded latents, on the
 * tfjs backend (ganql's kernels) and exported to ONNX Runtime (1 thread): the max abs difference of
 * the outputs, and how many of the 8-bit pixels (and so of the PNGs) differ; for a K+1 model, the
 * same for its classifier's logits on the generator's images, and how many predicted labels differ.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/backend/backend';
import { quantize } from '../src/images/png';
import { loadClassifier, runClassifier } from '../src/inference/classifier';
import { runGenerator } from '../src/inference/run-generator';
import { generatorOf, readManifest } from '../src/models/manifest';
import { loadServedGenerator } from '../src/models/served-generator';
import { exportOnnx } from '../src/onnx/export-onnx';
import { loadOnnxRuntime } from '../src/onnx/onnx-runtime';
import { OnnxSession } from '../src/onnx/onnx-session';
import { numberArg, stringArg } from '../bench/lib/cli-args';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmaxes(logits: Float32Array, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, i) => {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    return row.indexOf(Math.max(...row));
  });
}

async function onOnnx(runtime: ReturnType<typeof loadOnnxRuntime>, model: tf.LayersModel, input: Float32Array, n: number): Promise<Float32Array> {
  if (!runtime.ok) throw new Error(runtime.reason);
  const session = await OnnxSession.create(runtime.runtime, exportOnnx(model), { threads: 1 });
  try {
    return await session.run(input, n);
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const root = path.resolve(stringArg('models', 'models'));
  const n = numberArg('samples', 1024, 1, 100_000);
  const backend = await initBackend({ order: [stringArg('backend', 'wasm') as BackendName] });
  const runtime = loadOnnxRuntime();
  if (!runtime.ok) throw new Error(runtime.reason);
  console.log(
    `ONNX Runtime ${runtime.version} (1 thread) against tfjs ${backend.name} (custom kernels: ${backend.customKernels.join(', ') || 'none'}), ${n} seeded latents each`,
  );
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const dir = path.join(root, entry.name);
    if (!entry.isDirectory() || !existsSync(path.join(dir, 'manifest.json'))) continue;
    const manifest = readManifest(dir);
    const network = generatorOf(manifest);
    if (network === undefined) {
      console.log(`${manifest.name}@${manifest.version}: no generator, skipped (its classifier is compared on generated images)`);
      continue;
    }
    const generator = await loadServedGenerator(path.join(dir, network.path));
    const z = tf.randomNormal([n, network.latentSize], 0, 1, 'float32', 1);
    const latents = z.dataSync() as Float32Array;
    z.dispose();
    const tfjsImages = await runGenerator(generator, latents, n);
    const onnxImages = await onOnnx(runtime, generator, latents, n);
    const [min, max] = manifest.outputRange;
    let pixels = 0;
    const images = new Set<number>();
    const size = tfjsImages.length / n;
    for (let i = 0; i < tfjsImages.length; i++) {
      if (quantize(tfjsImages[i], min, max) !== quantize(onnxImages[i], min, max)) {
        pixels++;
        images.add(Math.floor(i / size));
      }
    }
    console.log(
      `${manifest.name}@${manifest.version} generator: max abs diff ${maxAbsDiff(tfjsImages, onnxImages).toExponential(2)}; ` +
        `8-bit pixels that differ: ${pixels} of ${tfjsImages.length}, in ${images.size} of ${n} images`,
    );
    if (manifest.classifier !== undefined) {
      const classes = manifest.classifier.classes.length;
      const classifier = await loadClassifier({ dir: path.join(dir, manifest.classifier.path), imageShape: manifest.imageShape, classes });
      const tfjsLogits = await runClassifier(classifier, tfjsImages, n);
      const onnxLogits = await onOnnx(runtime, classifier, tfjsImages, n);
      const a = argmaxes(tfjsLogits, classes);
      const b = argmaxes(onnxLogits, classes);
      const largest = Math.max(...tfjsLogits.map(Math.abs));
      console.log(
        `${manifest.name}@${manifest.version} classifier: max abs diff of the logits ${maxAbsDiff(tfjsLogits, onnxLogits).toExponential(2)} (largest logit ${largest.toFixed(1)}); ` +
          `labels that differ: ${a.filter((label, i) => label !== b[i]).length} of ${n}`,
      );
      classifier.dispose();
    }
    generator.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
