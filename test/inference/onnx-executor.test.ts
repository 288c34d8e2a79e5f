import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadClassifier, runClassifier } from '../../src/inference/classifier';
import { runGeneratorWalk } from '../../src/inference/layer-passes';
import type { ModelSpec } from '../../src/inference/model-spec';
import { ONNX_ENGINE, type OnnxServing } from '../../src/inference/onnx-sessions';
import { runGenerator } from '../../src/inference/run-generator';
import { WorkerExecutor } from '../../src/inference/worker-executor';
import { saveLayersModel } from '../../src/models/io';
import { loadServedGenerator } from '../../src/models/served-generator';
import { exportModelDir } from '../../src/onnx/export-model-dir';
import { EXPORTER_KEY, ONNX_EXPORTER_VERSION, onnxFileOf, readOnnxFile, SOURCE_KEY, sourceHash } from '../../src/onnx/onnx-file';
import { loadOnnxRuntime } from '../../src/onnx/onnx-runtime';
import { DIGITS, FIXTURE_LATENT, seededImages, toUnitRange, writeFixtureModel } from '../classify/kplusone-fixture';
import { relativeDiff } from '../helpers/compare';
import { buildTestGenerator, maxAbsDiff, seededLatents } from '../helpers/generator';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';

const { runtime, skipReason } = onnxRuntimeForTests('onnx-executor.test');

/** A generator ONNX export refuses (UpSampling2D is not among the layers it writes): it must stay on tfjs. */
function upsamplingGenerator(): tf.LayersModel {
  const z = tf.input({ shape: [FIXTURE_LATENT] });
  let x = tf.layers.dense({ units: 14 * 14 * 2, kernelInitializer: tf.initializers.randomNormal({ seed: 3 }) }).apply(z) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [14, 14, 2] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.randomNormal({ seed: 4 }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: z, outputs: x });
}

describe.skipIf(skipReason !== undefined)('WorkerExecutor serving generate and classify on ONNX Runtime', () => {
  let dir: string;
  let executor: WorkerExecutor;
  let served: tf.LayersModel;
  let classifier: tf.LayersModel;
  let specK: ModelSpec;
  let specUp: ModelSpec;
  let generatorK: string;
  let generatorUp: string;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-onnx-executor-'));
    await writeFixtureModel(dir, 'k', { name: 'k', version: '1', classes: DIGITS, seed: 2 });
    const up = upsamplingGenerator();
    await saveLayersModel(up, path.join(dir, 'up', 'generator'));
    up.dispose();
    generatorK = path.join(dir, 'k', 'generator');
    generatorUp = path.join(dir, 'up', 'generator');
    specK = { id: 'k@1', dir: generatorK, classifier: { dir: path.join(dir, 'k', 'classifier'), imageShape: [28, 28, 1], classes: 10 } };
    specUp = { id: 'up@1', dir: generatorUp };
    // The tfjs path's own networks on this thread, as a worker serves them on tfjs.
    served = await loadServedGenerator(generatorK);
    classifier = await loadClassifier(specK.classifier!);
    const onnx: OnnxServing = { runtime: runtime!, threads: 1, providers: ['cpu'], engine: ONNX_ENGINE };
    executor = await WorkerExecutor.create({ workers: 2, models: [specK, specUp], onnx });
  });

  afterAll(async () => {
    await executor?.close();
    served?.dispose();
    classifier?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what runs where: generate and classify on onnxruntime, filter removal and an unexportable generator on tfjs', () => {
    expect(executor.description).toBe('2 worker threads (onnxruntime 1 thread each, wasm)');
    expect(executor.enginesOf('k@1', 'generate')).toEqual(['onnxruntime', 'wasm']);
    expect(executor.enginesOf('k@1', 'generate', { layer: 'g_up1', filters: [] })).toEqual(['onnxruntime', 'wasm']);
    expect(executor.enginesOf('k@1', 'generate', { layer: 'g_up1', filters: [0] })).toEqual(['wasm']);
    expect(executor.enginesOf('k@1', 'classify')).toEqual(['onnxruntime', 'wasm']);
    expect(executor.enginesOf('up@1', 'generate')).toEqual(['wasm']);
    const k = executor.servingOf('k@1');
    expect(k.generate).toMatchObject({ engine: 'onnxruntime' });
    expect(k.generate?.reason).toBeUndefined();
    expect(k.generate?.source).toMatch(/generator\.onnx: no ONNX file: exported and written; checked against tfjs, max abs difference /);
    expect(k.classify).toMatchObject({ engine: 'onnxruntime' });
    const up = executor.servingOf('up@1');
    expect(Object.keys(up)).toEqual(['generate']);
    expect(up.generate?.engine).toBe('wasm');
    expect(up.generate?.reason).toMatch(/^ONNX export refused: layer up \(UpSampling2D\) cannot be exported: the exporter writes Dense, /);
  });

  it('wrote the ONNX files beside the networks, current for their weights; none for the network it cannot export', async () => {
    for (const network of [generatorK, path.join(dir, 'k', 'classifier')]) {
      expect(existsSync(onnxFileOf(network))).toBe(true);
      expect((await readOnnxFile(network)).state).toBe('current');
    }
    expect(onnxFileOf(generatorK)).toBe(path.join(dir, 'k', 'generator.onnx'));
    expect(existsSync(onnxFileOf(generatorUp))).toBe(false);
  });

  it('generates the images of the tfjs path within 1e-5, the same bytes on either worker, leaking no tensor', async () => {
    const before = executor.tensorCount();
    const sizes = [1, 5, 64, 5];
    const latents = sizes.map((n, i) => seededLatents(n, FIXTURE_LATENT, i === 3 ? 11 : 10 + i));
    const expected = await Promise.all(sizes.map((n, i) => runGenerator(served, latents[i], n)));
    // All four at once: the two workers share them, so the two batches of the same 5 latents may land on different workers.
    latents[3] = latents[1];
    const got = await Promise.all(sizes.map((n, i) => executor.generate('k@1', latents[i].slice(), n)));
    sizes.forEach((n, i) => {
      expect(got[i]).toHaveLength(n * 28 * 28);
      if (i !== 3) expect(maxAbsDiff(got[i], expected[i])).toBeLessThanOrEqual(1e-5);
    });
    expect(got[3]).toEqual(got[1]);
    // Each image is its own: the first latent alone gives the first image of the batch of 5, to the bit.
    expect(await executor.generate('k@1', latents[1].slice(0, FIXTURE_LATENT), 1)).toEqual(got[1].subarray(0, 28 * 28));
    expect(executor.tensorCount()).toBe(before);
  });

  it('classifies as the tfjs path does, within 1e-5 of the largest logit', async () => {
    const images = seededImages(6, 5).map(toUnitRange);
    const batch = new Float32Array(6 * 784);
    images.forEach((x, i) => batch.set(x, i * 784));
    const expected = await runClassifier(classifier, batch, 6);
    const got = await executor.classify('k@1', batch.slice(), 6);
    expect(got).toHaveLength(60);
    expect(relativeDiff(got, expected)).toBeLessThanOrEqual(1e-5);
  });

  it('removes filters on tfjs, and serves the unexportable generator on tfjs', async () => {
    const removal = { layer: 'g_up1', filters: [0, 2] };
    const latents = seededLatents(3, FIXTURE_LATENT, 30);
    const walked = await runGeneratorWalk(served, latents, 3, { layer: removal.layer, remove: removal.filters });
    expect(maxAbsDiff(await executor.generate('k@1', latents.slice(), 3, removal), walked)).toBeLessThanOrEqual(1e-5);

    const up = await loadServedGenerator(generatorUp);
    const expected = await runGenerator(up, latents, 3);
    up.dispose();
    expect(maxAbsDiff(await executor.generate('up@1', latents.slice(), 3), expected)).toBeLessThanOrEqual(1e-6);
  });

  it('generates on the engine asked for: tfjs gives the images of the tfjs path to the bit; an engine the model lacks fails', async () => {
    const latents = seededLatents(4, FIXTURE_LATENT, 50);
    const onTfjs = await executor.generate('k@1', latents.slice(), 4, undefined, 'wasm');
    expect(onTfjs).toEqual(await runGenerator(served, latents, 4));
    expect(await executor.generate('k@1', latents.slice(), 4, undefined, 'onnxruntime')).toEqual(await executor.generate('k@1', latents.slice(), 4));
    await expect(executor.generate('up@1', latents.slice(), 4, undefined, 'onnxruntime')).rejects.toThrow(
      'executor: expected an engine among wasm for up@1, got "onnxruntime"',
    );
  });

  it('a model loaded later is served on onnxruntime too, from the ONNX file written before, one without a generator included', async () => {
    await executor.loadModel({ ...specK, id: 'k@2' });
    expect(executor.servingOf('k@2').generate?.source).toMatch(/generator\.onnx \(read\); checked/);
    expect(executor.enginesOf('k@2', 'generate')[0]).toBe('onnxruntime');
    const latents = seededLatents(2, FIXTURE_LATENT, 40);
    expect(await executor.generate('k@2', latents.slice(), 2)).toEqual(await executor.generate('k@1', latents.slice(), 2));
    // Unloaded (archived), it serves nothing; loaded again (unarchived), the same plan from the same file.
    await executor.unloadModel('k@2');
    expect(executor.servingOf('k@2')).toEqual({});
    await executor.loadModel({ ...specK, id: 'k@2' });
    expect(executor.servingOf('k@2').generate?.source).toMatch(/generator\.onnx \(read\); checked/);
    expect(executor.enginesOf('k@2', 'classify')).toEqual(['onnxruntime', 'wasm']);
    expect(await executor.generate('k@2', latents.slice(), 2)).toEqual(await executor.generate('k@1', latents.slice(), 2));

    await executor.loadModel({ id: 'c@1', classifier: specK.classifier });
    expect(Object.keys(executor.servingOf('c@1'))).toEqual(['classify']);
    expect(executor.servingOf('c@1').classify?.engine).toBe('onnxruntime');
    const images = seededImages(2, 6).map(toUnitRange);
    const batch = new Float32Array(2 * 784);
    images.forEach((x, i) => batch.set(x, i * 784));
    expect(await executor.classify('c@1', batch.slice(), 2)).toEqual(await executor.classify('k@1', batch.slice(), 2));
  });

  it('serves on tfjs, saying why, a generator whose ONNX file records its weights but computes something else (the check against tfjs fails)', async () => {
    const generatorOther = path.join(dir, 'other', 'generator');
    const built = buildTestGenerator({ latentSize: FIXTURE_LATENT, generatorFilters: 8, seed: 5 });
    await saveLayersModel(built, generatorOther);
    built.dispose();
    // k's generator, stamped as if exported from other's weights: current by its metadata, wrong by its outputs.
    const metadata = { [SOURCE_KEY]: await sourceHash(generatorOther), [EXPORTER_KEY]: ONNX_EXPORTER_VERSION };
    writeFileSync(onnxFileOf(generatorOther), await exportModelDir(generatorK, { inputName: 'latent', outputName: 'image', metadata }));
    expect((await readOnnxFile(generatorOther)).state).toBe('current');

    // The check runs on this thread, leaving no tensor behind.
    const tensors = tf.memory().numTensors;
    await executor.loadModel({ id: 'other@1', dir: generatorOther });
    expect(tf.memory().numTensors).toBe(tensors);
    const serving = executor.servingOf('other@1').generate;
    expect(serving?.engine).toBe('wasm');
    expect(serving?.reason).toMatch(
      /^ONNX check failed: outputs differ from tfjs by up to \d\.\d\de[-+]\d+ on 8 seeded latents \(at most 0\.0001 allowed; .*generator\.onnx \(read\)\)$/,
    );
    const other = await loadServedGenerator(generatorOther);
    const latents = seededLatents(3, FIXTURE_LATENT, 60);
    expect(await executor.generate('other@1', latents.slice(), 3)).toEqual(await runGenerator(other, latents, 3));
    other.dispose();
  });
});

describe('loadOnnxRuntime', () => {
  it('says why when the module does not load, so ganql serves on tfjs', () => {
    const missing = loadOnnxRuntime('onnxruntime-node-not-installed');
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.reason).toMatch(/^onnxruntime-node-not-installed did not load: Cannot find module 'onnxruntime-node-not-installed'/);
  });
});
