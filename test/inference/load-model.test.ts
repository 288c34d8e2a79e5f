import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { openDatabase, type Database } from '../../src/db/database';
import { chooseExecutor } from '../../src/inference/choose-executor';
import { InProcessExecutor } from '../../src/inference/in-process-executor';
import { modelSpec, type ModelSpec } from '../../src/inference/model-spec';
import { InferencePool } from '../../src/inference/pool';
import { runClassifier } from '../../src/inference/classifier';
import { runGenerator } from '../../src/inference/run-generator';
import { WorkerExecutor } from '../../src/inference/worker-executor';
import type { WorkerEvent } from '../../src/inference/worker-executor.options';
import { createLogger } from '../../src/log/logger';
import { loadLayersModel } from '../../src/models/io';
import { ModelRegistry } from '../../src/models/model-registry';
import { DIGITS, FIXTURE_LATENT, loadFixtureClassifier, seededImages, toUnitRange, writeFixtureModel } from '../classify/kplusone-fixture';
import { maxAbsDiff, seededLatents } from '../helpers/generator';

const CRASH_SIZE = 5;
const spec = (modelsDir: string, folder: string, id: string, classes = 10): ModelSpec => ({
  id,
  dir: path.join(modelsDir, folder, 'generator'),
  classifier: { dir: path.join(modelsDir, folder, 'classifier'), imageShape: [28, 28, 1], classes },
});

/** n images in the classifier's [-1, 1], row-major, and the same as one array per image. */
function imageBatch(n: number, seed: number): { rows: Float32Array[]; batch: Float32Array } {
  const rows = seededImages(n, seed).map(toUnitRange);
  const batch = new Float32Array(n * 784);
  rows.forEach((r, i) => batch.set(r, i * 784));
  return { rows, batch };
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('classifiers and models loaded at runtime, on workers and in-process', () => {
  const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-load-model-'));
  const log = createLogger('silent');
  const references = new Map<string, { generator: tf.LayersModel; classifier: tf.LayersModel }>();
  const reference = (folder: string) => references.get(folder)!;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    for (const [folder, seed] of [
      ['first', 1],
      ['second', 2],
      ['third', 3],
    ] as const) {
      await writeFixtureModel(modelsDir, folder, { name: `k-${folder}`, version: '1', classes: DIGITS, seed });
      references.set(folder, {
        generator: await loadLayersModel(path.join(modelsDir, folder, 'generator')),
        classifier: await loadFixtureClassifier(modelsDir, folder),
      });
    }
  });

  afterAll(() => {
    for (const r of references.values()) {
      r.generator.dispose();
      r.classifier.dispose();
    }
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('workers classify batches as the classifier does directly, and serve a model loaded after start, generator and classifier', async () => {
    const executor = await WorkerExecutor.create({ workers: 2, models: [spec(modelsDir, 'first', 'k-first@1')] });
    const pool = new InferencePool(executor, { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 1024, requestTimeoutMs: 30_000 });
    try {
      expect(executor.hasClassifier('k-first@1')).toBe(true);
      const { rows, batch } = imageBatch(12, 5);
      const expected = await runClassifier(reference('first').classifier, batch, 12);
      // 12 requests of one image each: the pool batches them onto the two workers.
      const got = await Promise.all(rows.map((r) => pool.classify('k-first@1', [r.slice()])));
      got.forEach(([logits], i) => expect(maxAbsDiff(logits, expected.subarray(i * 10, (i + 1) * 10))).toBeLessThanOrEqual(1e-5));
      expect(pool.stats().batches).toBeLessThan(12);

      await expect(pool.classify('k-second@1', [rows[0].slice()])).rejects.toThrow(
        'WorkerExecutor: expected a model with a classifier among k-first@1, got "k-second@1"',
      );
      const tensorsBefore = executor.tensorCount();
      await pool.loadModel(spec(modelsDir, 'second', 'k-second@1'));
      expect(executor.hasClassifier('k-second@1')).toBe(true);
      // The second model's weights now live in both workers.
      expect(executor.tensorCount()).toBeGreaterThan(tensorsBefore);
      const z = seededLatents(3, FIXTURE_LATENT, 4);
      const zRows = [0, 1, 2].map((i) => z.slice(i * FIXTURE_LATENT, (i + 1) * FIXTURE_LATENT));
      // Enough concurrent batches that both workers take some.
      const [images, ...classified] = await Promise.all([pool.generate('k-second@1', zRows), ...rows.map((r) => pool.classify('k-second@1', [r.slice()]))]);
      const expectedImages = await runGenerator(reference('second').generator, z, 3);
      images.forEach((image, i) => expect(maxAbsDiff(image, expectedImages.subarray(i * 784, (i + 1) * 784))).toBeLessThanOrEqual(1e-5));
      const expectedSecond = await runClassifier(reference('second').classifier, batch, 12);
      classified.forEach(([logits], i) => expect(maxAbsDiff(logits, expectedSecond.subarray(i * 10, (i + 1) * 10))).toBeLessThanOrEqual(1e-5));
      // Two classifiers with different weights: the worker did not answer with the first one's logits.
      expect(maxAbsDiff(expectedSecond, expected)).toBeGreaterThan(0.1);

      await expect(pool.loadModel(spec(modelsDir, 'second', 'k-second@1'))).rejects.toThrow(
        'WorkerExecutor.loadModel: expected a model not loaded yet, got k-second@1 again',
      );
      // Serving does not leak: the workers' tensor count is flat over more requests.
      const steady = executor.tensorCount();
      await Promise.all(rows.map((r) => pool.classify('k-second@1', [r.slice()])));
      expect(executor.tensorCount()).toBe(steady);
    } finally {
      await pool.close();
    }
  });

  it('a worker that restarts after a crash loads the models added since it first started', async () => {
    const events: WorkerEvent[] = [];
    // One worker: after the crash, whatever serves the added model is the restarted worker.
    const executor = await WorkerExecutor.create({
      workers: 1,
      models: [spec(modelsDir, 'first', 'k-first@1')],
      exitOnBatchSize: CRASH_SIZE,
      onEvent: (e) => events.push(e),
    });
    try {
      await executor.loadModel(spec(modelsDir, 'third', 'k-third@1'));
      await expect(executor.generate('k-first@1', seededLatents(CRASH_SIZE, FIXTURE_LATENT, 9), CRASH_SIZE)).rejects.toThrow(
        'inference worker 0 exited with code 70',
      );
      await waitFor(() => events.some((e) => e.type === 'restarted'));
      const { batch } = imageBatch(3, 8);
      const logits = await executor.classify('k-third@1', batch.slice(), 3);
      expect(maxAbsDiff(logits, await runClassifier(reference('third').classifier, batch, 3))).toBeLessThanOrEqual(1e-5);
      const z = seededLatents(2, FIXTURE_LATENT, 10);
      expect(maxAbsDiff(await executor.generate('k-third@1', z.slice(), 2), await runGenerator(reference('third').generator, z, 2))).toBeLessThanOrEqual(1e-5);
      expect(events.map((e) => e.type)).toEqual(['exited', 'restarted']);
    } finally {
      await executor.close();
    }
  });

  it("a model that does not load is refused with the worker's reason, undone everywhere, and can be loaded once fixed", async () => {
    const executor = await WorkerExecutor.create({ workers: 2, models: [] });
    try {
      expect(executor.description).toBe('2 worker threads (wasm)');
      const wrong = { ...spec(modelsDir, 'second', 'k-second@1'), classifier: { ...spec(modelsDir, 'second', 'k-second@1').classifier!, classes: 11 } };
      await expect(executor.loadModel(wrong)).rejects.toThrow(
        `could not load the model: classifier ${path.join(modelsDir, 'second', 'classifier')}: expected one output of shape [n, 11] (one logit per class in the manifest), got [n, 10]`,
      );
      expect(executor.hasClassifier('k-second@1')).toBe(false);
      await expect(executor.generate('k-second@1', seededLatents(1, FIXTURE_LATENT), 1)).rejects.toThrow(
        'WorkerExecutor: expected a model id among , got "k-second@1"',
      );
      await expect(executor.loadModel({ id: 'rel', dir: 'models/x' })).rejects.toThrow(
        'WorkerExecutor.loadModel: expected an absolute generator folder for rel, got "models/x"',
      );
      // The same id loads once its files are right, on both workers.
      await executor.loadModel(spec(modelsDir, 'second', 'k-second@1'));
      const z = seededLatents(2, FIXTURE_LATENT, 12);
      const expected = await runGenerator(reference('second').generator, z, 2);
      const [a, b] = await Promise.all([executor.generate('k-second@1', z.slice(), 2), executor.generate('k-second@1', z.slice(), 2)]);
      expect(maxAbsDiff(a, expected)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(b, expected)).toBeLessThanOrEqual(1e-5);
    } finally {
      await executor.close();
    }
  });

  it('in-process: loadModel loads the classifier of a version the registry holds, and classifies as the classifier does directly', async () => {
    const database: Database = openDatabase(`file:${path.join(modelsDir, 'in-process.db')}`);
    await database.migrate();
    const registry = await ModelRegistry.load(modelsDir, database.prisma, log);
    const executor = new InProcessExecutor(registry, 'wasm');
    try {
      await expect(executor.loadModel({ id: 'nope@1', dir: '/nope' })).rejects.toThrow('model "nope@1" not found');
      const before = tf.memory().numTensors;
      await executor.loadModel(modelSpec(registry.get('k-first@1'), modelsDir));
      expect(executor.hasClassifier('k-first@1')).toBe(true);
      const { batch } = imageBatch(4, 13);
      const logits = await executor.classify('k-first@1', batch.slice(), 4);
      expect(maxAbsDiff(logits, await runClassifier(reference('first').classifier, batch, 4))).toBeLessThanOrEqual(1e-6);
      await expect(executor.classify('k-third@1', batch.slice(), 4)).rejects.toThrow(
        'InProcessExecutor: expected a model with a classifier among k-first@1, got "k-third@1"',
      );
      await executor.close();
      // close() disposed the classifier it loaded: back to the tensors of before.
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      registry.dispose();
      await database.close();
    }
  });

  it('a version added to the registry after start is servable by the workers through the pool (as a training job adds it)', async () => {
    const root = path.join(modelsDir, 'served');
    await writeFixtureModel(root, 'base', { name: 'base', version: '1' });
    const database = openDatabase(`file:${path.join(modelsDir, 'served.db')}`);
    await database.migrate();
    const registry = await ModelRegistry.load(root, database.prisma, log);
    const executor = await chooseExecutor({ backend: 'wasm', workers: 2, registry, modelsDir: root, log });
    const pool = new InferencePool(executor, { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 1024, requestTimeoutMs: 30_000 });
    try {
      expect(pool.hasClassifier('base@1')).toBe(false);
      await writeFixtureModel(root, 'trained', { name: 'trained', version: '2', classes: DIGITS, seed: 7 });
      const added = await registry.add('trained');
      await pool.loadModel(modelSpec(added, registry.root));
      expect(pool.hasClassifier('trained@2')).toBe(true);
      const classifier = await loadFixtureClassifier(root, 'trained');
      const { rows, batch } = imageBatch(6, 21);
      const expected = await runClassifier(classifier, batch, 6);
      classifier.dispose();
      const logits = await pool.classify('trained@2', rows);
      logits.forEach((l, i) => expect(maxAbsDiff(l, expected.subarray(i * 10, (i + 1) * 10))).toBeLessThanOrEqual(1e-5));
      const z = seededLatents(1, FIXTURE_LATENT, 5);
      const [image] = await pool.generate('trained@2', [z.slice()]);
      expect(maxAbsDiff(image, await runGenerator(registry.getGenerating(added.id).generator, z, 1))).toBeLessThanOrEqual(1e-5);
    } finally {
      await pool.close();
      registry.dispose();
      await database.close();
    }
  });

  it('chooseExecutor leaves out a classifier that does not fit its manifest: the model still generates, classify says it cannot', async () => {
    const root = path.join(modelsDir, 'broken');
    await writeFixtureModel(root, 'bad', { name: 'bad', version: '1', classes: DIGITS, wrongClassifierClasses: 3 });
    const database = openDatabase(`file:${path.join(modelsDir, 'broken.db')}`);
    await database.migrate();
    const registry = await ModelRegistry.load(root, database.prisma, log);
    const errors: string[] = [];
    const spyLog = { ...log, error: (message: string) => errors.push(message) };
    try {
      for (const workers of [1, 0]) {
        const executor = await chooseExecutor({ backend: 'wasm', workers, registry, modelsDir: root, log: spyLog });
        try {
          expect(executor.hasClassifier('bad@1')).toBe(false);
          expect(await executor.generate('bad@1', seededLatents(1, FIXTURE_LATENT), 1)).toHaveLength(784);
        } finally {
          await executor.close();
        }
      }
      expect(errors).toEqual([
        'classifier not loaded; the model serves samples but not classify',
        'classifier not loaded; the model serves samples but not classify',
      ]);
    } finally {
      registry.dispose();
      await database.close();
    }
  });
});
