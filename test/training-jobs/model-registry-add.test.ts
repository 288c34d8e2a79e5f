import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/log/logger';
import { ModelRegistry } from '../../src/models/model-registry';
import { MODELS_DIR, tempModelsDir } from '../helpers/server';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-registry-add-'));
let db: Database;
let modelsDir: string;

beforeAll(async () => {
  await initBackend({ order: ['wasm'] });
  db = openDatabase(`file:${path.join(dir, 'r.db')}`);
  await db.migrate();
  modelsDir = tempModelsDir(dir);
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of the shipped version under another version label, as a training job leaves one. */
function copyAs(folder: string, version: string): void {
  cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(modelsDir, folder), { recursive: true });
  const file = path.join(modelsDir, folder, 'manifest.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version }));
}

describe('ModelRegistry.add', () => {
  it('loads a version added while serving, records it, and refuses duplicates and folders outside the root', async () => {
    const before = tf.memory().numTensors;
    const registry = await ModelRegistry.load(modelsDir, db.prisma, createLogger('silent'));
    expect(registry.list().map((m) => m.id)).toEqual(['dcgan-mnist@2026-12-06T04-16']);
    copyAs('dcgan-mnist-v2', 'v2');
    const added = await registry.add('dcgan-mnist-v2');
    expect(added).toMatchObject({ id: 'dcgan-mnist@v2', path: 'dcgan-mnist-v2' });
    expect(registry.get('dcgan-mnist@v2')).toBe(added);
    expect(registry.list().map((m) => m.id)).toEqual(['dcgan-mnist@2026-12-06T04-16', 'dcgan-mnist@v2']);
    expect(await db.prisma.model.findUnique({ where: { id: 'dcgan-mnist@v2' } })).toMatchObject({
      version: 'v2',
      path: 'dcgan-mnist-v2',
      architecture: 'dcgan',
    });
    // Same generator weights as the shipped version: same output.
    const diff = tf.tidy(() => {
      const z = tf.randomNormal([2, 100], 0, 1, 'float32', 7);
      return tf.max(
        tf.abs(
          tf.sub(
            registry.getGenerating('dcgan-mnist@2026-12-06T04-16').generator.predict(z) as tf.Tensor,
            registry.getGenerating(added.id).generator.predict(z) as tf.Tensor,
          ),
        ),
      );
    });
    expect(diff.dataSync()[0]).toBe(0);
    diff.dispose();

    copyAs('dcgan-mnist-v2-again', 'v2');
    await expect(registry.add('dcgan-mnist-v2-again')).rejects.toThrow('duplicate model id dcgan-mnist@v2');
    await expect(registry.add('../elsewhere')).rejects.toThrow(`ModelRegistry.add: expected a folder directly under ${modelsDir}, got "../elsewhere"`);
    await expect(registry.add('missing')).rejects.toThrow('manifest.json');
    expect(registry.size).toBe(2);
    registry.dispose();
    // Every generator the registry loaded is freed, the refused ones included.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('serves an added or restored version only once its preparation (the pool loading it) is done, and drops it if that fails', async () => {
    const before = tf.memory().numTensors;
    const registry = await ModelRegistry.load(modelsDir, db.prisma, createLogger('silent'));
    copyAs('dcgan-mnist-v3', 'v3');
    let release = (): void => undefined;
    let preparing = (): void => undefined;
    const reached = new Promise<void>((resolve) => (preparing = resolve));
    const seenWhilePreparing: unknown[] = [];
    const adding = registry.add('dcgan-mnist-v3', async (model) => {
      // Requests do not see it yet; the pool finds it.
      seenWhilePreparing.push(
        registry.list().some((m) => m.id === model.id),
        registry.isServed(model.id),
        registry.loaded(model.id) === model,
      );
      preparing();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await reached;
    expect(seenWhilePreparing).toEqual([false, false, true]);
    expect(() => registry.get('dcgan-mnist@v3')).toThrow('dcgan-mnist@v3');
    // Its id is taken meanwhile.
    copyAs('dcgan-mnist-v3-again', 'v3');
    await expect(registry.add('dcgan-mnist-v3-again')).rejects.toThrow('duplicate model id dcgan-mnist@v3');
    release();
    expect((await adding).id).toBe('dcgan-mnist@v3');
    expect(registry.get('dcgan-mnist@v3').path).toBe('dcgan-mnist-v3');

    // A preparation that fails leaves nothing: not served, its id free, its generator freed.
    copyAs('dcgan-mnist-v4', 'v4');
    await expect(registry.add('dcgan-mnist-v4', () => Promise.reject(new Error('pool refused')))).rejects.toThrow('pool refused');
    expect(registry.isServed('dcgan-mnist@v4')).toBe(false);
    expect(() => registry.loaded('dcgan-mnist@v4')).toThrow('dcgan-mnist@v4');

    // Restoring an archived version: archived to requests until its preparation is done, still archived if it fails.
    registry.retire('dcgan-mnist@v3', { archivedAt: new Date(), archivedBy: 'test' })?.generator?.dispose();
    await expect(registry.restore('dcgan-mnist@v3', () => Promise.reject(new Error('pool refused')))).rejects.toThrow('pool refused');
    expect(registry.isArchived('dcgan-mnist@v3')).toBe(true);
    const restored = await registry.restore('dcgan-mnist@v3', async (model) => {
      expect(registry.isArchived(model.id)).toBe(true);
      expect(registry.loaded(model.id)).toBe(model);
    });
    expect(registry.get('dcgan-mnist@v3')).toBe(restored);
    expect(registry.isArchived('dcgan-mnist@v3')).toBe(false);
    registry.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
