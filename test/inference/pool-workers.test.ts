import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { InferencePool } from '../../src/inference/pool';
import { runGenerator } from '../../src/inference/run-generator';
import { WorkerExecutor } from '../../src/inference/worker-executor';
import type { WorkerEvent } from '../../src/inference/worker-executor.options';
import { saveLayersModel } from '../../src/models/io';
import { buildTestGenerator, maxAbsDiff, seededLatents } from '../helpers/generator';

const LATENT = 16;
const CRASH_SIZE = 5;

/** Splits n row-major latents into one Float32Array per item, as requests carry them. */
function rows(latents: Float32Array, size: number): Float32Array[] {
  return Array.from({ length: latents.length / size }, (_, i) => latents.slice(i * size, (i + 1) * size));
}

describe('InferencePool on a WorkerExecutor', () => {
  let dir: string;
  let generator: tf.LayersModel;
  let executor: WorkerExecutor;
  let pool: InferencePool;
  const events: WorkerEvent[] = [];

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-pool-workers-'));
    generator = buildTestGenerator({ latentSize: LATENT, generatorFilters: 8 });
    await saveLayersModel(generator, dir);
    executor = await WorkerExecutor.create({ workers: 2, models: [{ id: 'tiny@1', dir }], exitOnBatchSize: CRASH_SIZE, onEvent: (e) => events.push(e) });
    pool = new InferencePool(executor, { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 1024, requestTimeoutMs: 30_000 });
  });

  afterAll(async () => {
    await pool?.close();
    generator?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('batches concurrent requests onto the workers and gives each request its own images', async () => {
    const requests = Array.from({ length: 12 }, (_, r) => rows(seededLatents(1 + (r % 3), LATENT, 100 + r), LATENT));
    const results = await Promise.all(
      requests.map((latents) =>
        pool.generate(
          'tiny@1',
          latents.map((z) => z.slice()),
        ),
      ),
    );
    let worst = 0;
    for (let r = 0; r < requests.length; r++) {
      expect(results[r]).toHaveLength(requests[r].length);
      for (let i = 0; i < requests[r].length; i++) worst = Math.max(worst, maxAbsDiff(results[r][i], await runGenerator(generator, requests[r][i], 1)));
    }
    console.log(`pool on 2 workers vs in-process: max abs diff ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
    const stats = pool.stats();
    // 24 items in batches of at most 8: batching happened, and no batch broke the limit.
    expect(stats.items).toBe(24);
    expect(stats.batches).toBeLessThan(24);
    expect(stats.largestBatch).toBeLessThanOrEqual(8);
  });

  it('survives a worker crash mid-batch: the pool retries the items one by one on the restarted workers', async () => {
    const latents = rows(seededLatents(CRASH_SIZE, LATENT, 200), LATENT);
    const images = await pool.generate(
      'tiny@1',
      latents.map((z) => z.slice()),
    );
    expect(events).toContainEqual(expect.objectContaining({ type: 'exited', code: 70, lostBatch: true }));
    for (let i = 0; i < CRASH_SIZE; i++) expect(maxAbsDiff(images[i], await runGenerator(generator, latents[i], 1))).toBeLessThanOrEqual(1e-5);
  });

  it('close() drains the pool, then closes the executor', async () => {
    const pending = pool.generate('tiny@1', rows(seededLatents(3, LATENT, 300), LATENT));
    await pool.close();
    expect(await pending).toHaveLength(3);
    await expect(executor.generate('tiny@1', new Float32Array(LATENT), 1)).rejects.toThrow('WorkerExecutor: closed; no new batches are taken');
  });
});
