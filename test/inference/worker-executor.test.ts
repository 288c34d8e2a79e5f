import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { decodePng, encodePngs } from '../../src/images/png';
import { runGenerator } from '../../src/inference/run-generator';
import { WorkerExecutor } from '../../src/inference/worker-executor';
import type { WorkerEvent } from '../../src/inference/worker-executor.options';
import { saveLayersModel } from '../../src/models/io';
import { buildTestGenerator, maxAbsDiff, seededLatents } from '../helpers/generator';

const LATENT = 16;
/** Batch size at which the test hook makes a worker exit mid-batch. */
const CRASH_SIZE = 7;

describe('WorkerExecutor', () => {
  let dir: string;
  let generator: tf.LayersModel;
  let executor: WorkerExecutor;
  const events: WorkerEvent[] = [];

  /** The images the in-process path computes, from the unfolded generator on this thread. */
  const reference = (latents: Float32Array, n: number) => runGenerator(generator, latents, n);

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-worker-'));
    generator = buildTestGenerator({ latentSize: LATENT, generatorFilters: 8 });
    await saveLayersModel(generator, path.join(dir, 'generator'));
    executor = await WorkerExecutor.create({
      workers: 2,
      models: [{ id: 'tiny@1', dir: path.join(dir, 'generator') }],
      exitOnBatchSize: CRASH_SIZE,
      onEvent: (e) => events.push(e),
    });
  });

  afterAll(async () => {
    await executor?.close();
    generator?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes itself and holds two batches per worker (one computing, one waiting in its queue)', () => {
    expect(executor.concurrency).toBe(4);
    expect(executor.description).toBe('2 worker threads (wasm)');
  });

  it('returns the same images as in-process for batches of different sizes, computed at once on both workers', async () => {
    const sizes = [1, 3, 64, 2];
    const latents = sizes.map((n, i) => seededLatents(n, LATENT, 10 + i));
    const expected = await Promise.all(sizes.map((n, i) => reference(latents[i], n)));
    const got = await Promise.all(sizes.map((n, i) => executor.generate('tiny@1', latents[i].slice(), n)));
    sizes.forEach((n, i) => {
      expect(got[i]).toBeInstanceOf(Float32Array);
      expect(got[i]).toHaveLength(n * 28 * 28);
      const diff = maxAbsDiff(got[i], expected[i]);
      console.log(`batch of ${n}: worker vs in-process max abs diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    });
  });

  it('generatePngs encodes on the worker the same PNG bytes as encodePngs on this thread, with the same pixels as generate', async () => {
    const format = { width: 28, height: 28, channels: 1 as const, range: [-1, 1] as [number, number] };
    const latents = seededLatents(5, LATENT, 41);
    const pixels = await executor.generate('tiny@1', latents.slice(), 5);
    const { pixels: withPngs, pngs } = await executor.generatePngs('tiny@1', latents.slice(), 5, format);
    expect(withPngs).toEqual(pixels);
    expect(pngs).toHaveLength(5);
    const here = encodePngs(withPngs, 5, format);
    pngs.forEach((png, i) => expect(png.equals(here[i])).toBe(true));
    // Each PNG decodes to its own image.
    expect(decodePng(pngs[4])).toMatchObject({ width: 28, height: 28, channels: 1 });
  });

  it('takes ownership of the latents: their buffer moves to the worker', async () => {
    const latents = seededLatents(2, LATENT, 3);
    const images = executor.generate('tiny@1', latents, 2);
    expect(latents.length).toBe(0);
    expect(await images).toHaveLength(2 * 28 * 28);
  });

  it('a worker crash fails only the batch it held; the worker is restarted and serves again', async () => {
    const good = [seededLatents(4, LATENT, 21), seededLatents(2, LATENT, 22)];
    const settled = await Promise.allSettled([
      executor.generate('tiny@1', good[0].slice(), 4),
      executor.generate('tiny@1', seededLatents(CRASH_SIZE, LATENT, 20), CRASH_SIZE),
      executor.generate('tiny@1', good[1].slice(), 2),
    ]);
    expect(settled[1].status).toBe('rejected');
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect((settled[1] as PromiseRejectedResult).reason.message).toMatch(/^inference worker [01] exited with code 70 while computing a batch of 7 for tiny@1$/);
    for (const [k, i] of [
      [0, 0],
      [2, 1],
    ] as const) {
      expect(settled[k].status).toBe('fulfilled');
      expect(maxAbsDiff((settled[k] as PromiseFulfilledResult<Float32Array>).value, await reference(good[i], good[i].length / LATENT))).toBeLessThanOrEqual(
        1e-5,
      );
    }
    expect(events.filter((e) => e.type === 'exited')).toEqual([expect.objectContaining({ code: 70, lostBatch: true })]);

    // Both workers serve again once the dead one is back: two batches at once, each on a worker.
    await waitFor(() => events.some((e) => e.type === 'restarted'));
    const again = seededLatents(3, LATENT, 23);
    const [a, b] = await Promise.all([executor.generate('tiny@1', again.slice(), 3), executor.generate('tiny@1', again.slice(), 3)]);
    const expected = await reference(again, 3);
    expect(maxAbsDiff(a, expected)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(b, expected)).toBeLessThanOrEqual(1e-5);
  });

  it("rejects an unknown model at once, and a bad batch with the worker's error, without losing the worker", async () => {
    await expect(executor.generate('nope', new Float32Array(LATENT), 1)).rejects.toThrow('WorkerExecutor: expected a model id among tiny@1, got "nope"');
    await expect(executor.generate('tiny@1', new Float32Array(LATENT + 1), 1)).rejects.toThrow('executor: expected 16 latent values (1 x 16), got 17');
    const exits = events.filter((e) => e.type === 'exited').length;
    expect(await executor.generate('tiny@1', seededLatents(1, LATENT), 1)).toHaveLength(28 * 28);
    expect(events.filter((e) => e.type === 'exited')).toHaveLength(exits);
  });

  it('unloadModel: queued batches fail NOT_FOUND, those the worker holds finish, workers release the model, and loadModel serves it again', async () => {
    const own = await WorkerExecutor.create({ workers: 1, models: [{ id: 'tiny@1', dir: path.join(dir, 'generator') }] });
    expect(own.concurrency).toBe(2);
    await own.generate('tiny@1', seededLatents(1, LATENT, 40), 1);
    const holding = own.tensorCount();
    // One worker, pipeline depth 2: the first batch runs, the second waits in the worker's queue,
    // the third in the executor's when the model is unloaded.
    const running = own.generate('tiny@1', seededLatents(64, LATENT, 41), 64);
    const handed = own.generate('tiny@1', seededLatents(3, LATENT, 44), 3);
    const queued = own.generate('tiny@1', seededLatents(1, LATENT, 42), 1);
    await own.unloadModel('tiny@1');
    await expect(queued).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'model "tiny@1" was archived while this request waited for it' });
    expect(await running).toHaveLength(64 * 28 * 28);
    expect(await handed).toHaveLength(3 * 28 * 28);
    await expect(own.generate('tiny@1', seededLatents(1, LATENT), 1)).rejects.toThrow('WorkerExecutor: expected a model id among , got "tiny@1"');
    // The worker drops it once its batch is done; its tensor count comes with the reply.
    for (let i = 0; i < 50 && own.tensorCount() >= holding; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(own.tensorCount()).toBeLessThan(holding);
    await own.loadModel({ id: 'tiny@1', dir: path.join(dir, 'generator') });
    const latents = seededLatents(2, LATENT, 43);
    expect(maxAbsDiff(await own.generate('tiny@1', latents.slice(), 2), await reference(latents, 2))).toBeLessThanOrEqual(1e-5);
    expect(own.tensorCount()).toBe(holding);
    await own.close();
  });

  it('close() lets queued and running batches finish, then refuses new ones', async () => {
    const own = await WorkerExecutor.create({ workers: 1, models: [{ id: 'tiny@1', dir: path.join(dir, 'generator') }] });
    const latents = [1, 2, 3].map((n) => seededLatents(n, LATENT, 30 + n));
    // One worker: the first batch runs, the others wait in the executor's queue when close() is called.
    const running = latents.map((z, i) => own.generate('tiny@1', z.slice(), i + 1));
    await own.close();
    const images = await Promise.all(running);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(images[i], await reference(latents[i], i + 1))).toBeLessThanOrEqual(1e-5);
    await expect(own.generate('tiny@1', latents[0], 1)).rejects.toThrow('WorkerExecutor: closed; no new batches are taken');
  });

  it('fails waiting batches when a dead worker cannot be restarted, instead of holding them', async () => {
    const copy = path.join(dir, 'copy');
    cpSync(path.join(dir, 'generator'), copy, { recursive: true });
    const own: WorkerEvent[] = [];
    const lonely = await WorkerExecutor.create({ workers: 1, models: [{ id: 'tiny@1', dir: copy }], exitOnBatchSize: CRASH_SIZE, onEvent: (e) => own.push(e) });
    // The model goes away while the worker runs: its restart will fail.
    rmSync(copy, { recursive: true });
    const crashing = lonely.generate('tiny@1', seededLatents(CRASH_SIZE, LATENT), CRASH_SIZE);
    const waiting = lonely.generate('tiny@1', seededLatents(2, LATENT), 2);
    await expect(crashing).rejects.toThrow('inference worker 0 exited with code 70 while computing a batch of 7 for tiny@1');
    await expect(waiting).rejects.toThrow(
      `no inference worker is running: inference worker 0 failed to start: loadLayersModel: cannot read ${path.join(copy, 'model.json')}`,
    );
    expect(own.map((e) => e.type)).toEqual(['exited', 'restartFailed']);
    await lonely.close();
  });

  it('a batch waiting in a worker that dies behind the crashing one is not lost: it runs once the worker is back', async () => {
    const own: WorkerEvent[] = [];
    const lonely = await WorkerExecutor.create({
      workers: 1,
      models: [{ id: 'tiny@1', dir: path.join(dir, 'generator') }],
      exitOnBatchSize: CRASH_SIZE,
      onEvent: (e) => own.push(e),
    });
    const latents = seededLatents(2, LATENT, 24);
    const crashing = lonely.generate('tiny@1', seededLatents(CRASH_SIZE, LATENT), CRASH_SIZE);
    const behind = lonely.generate('tiny@1', latents.slice(), 2);
    await expect(crashing).rejects.toThrow('inference worker 0 exited with code 70 while computing a batch of 7 for tiny@1');
    expect(maxAbsDiff(await behind, await reference(latents, 2))).toBeLessThanOrEqual(1e-5);
    expect(own.map((e) => e.type)).toEqual(['exited', 'restarted']);
    await lonely.close();
  });

  it("fails to start with the worker's reason when a model cannot be loaded", async () => {
    const missing = path.join(dir, 'missing');
    await expect(WorkerExecutor.create({ workers: 1, models: [{ id: 'gone@1', dir: missing }] })).rejects.toThrow(
      `inference worker 0 failed to start: loadLayersModel: cannot read ${path.join(missing, 'model.json')}`,
    );
  });

  it('checks its options where they enter', async () => {
    const models = [{ id: 'tiny@1', dir: path.join(dir, 'generator') }];
    await expect(WorkerExecutor.create({ workers: 0, models })).rejects.toThrow('WorkerExecutor: expected workers to be an integer >= 1, got 0');
    await expect(WorkerExecutor.create({ workers: 1, models, pipelineDepth: 0 })).rejects.toThrow(
      'WorkerExecutor: expected pipelineDepth to be an integer >= 1, got 0',
    );
    await expect(WorkerExecutor.create({ workers: 1, models: [{ id: 'rel', dir: 'models/x' }] })).rejects.toThrow(
      'WorkerExecutor: expected an absolute generator folder for rel, got "models/x"',
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
