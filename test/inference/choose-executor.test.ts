import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend';
import { openDatabase, type Database } from '../../src/db/database';
import { chooseExecutor, planExecutor } from '../../src/inference/choose-executor';
import { runGenerator } from '../../src/inference/run-generator';
import { createLogger } from '../../src/log/logger';
import type { ModelManifest } from '../../src/models/manifest';
import { ModelRegistry } from '../../src/models/model-registry';
import { saveLayersModel } from '../../src/models/io';
import { buildTestGenerator, maxAbsDiff, seededLatents } from '../helpers/generator';

describe('planExecutor', () => {
  it('keeps tensorflow-gpu in-process whatever the worker setting', () => {
    for (const workers of [undefined, 0, 4]) {
      expect(planExecutor('tensorflow-gpu', workers, 8)).toEqual({ kind: 'in-process', reason: 'tensorflow-gpu: one executor owns the GPU' });
    }
  });

  it('gives single-threaded backends one worker per core by default', () => {
    expect(planExecutor('wasm', undefined, 2)).toMatchObject({ kind: 'workers', workers: 2 });
    expect(planExecutor('cpu', undefined, 16)).toMatchObject({ kind: 'workers', workers: 16 });
  });

  it('gives native tensorflow one worker by default, as it parallelises each op itself', () => {
    expect(planExecutor('tensorflow', undefined, 16)).toMatchObject({ kind: 'workers', workers: 1 });
  });

  it('follows a configured count, 0 meaning in-process', () => {
    expect(planExecutor('wasm', 0, 2)).toEqual({ kind: 'in-process', reason: 'inference workers set to 0' });
    expect(planExecutor('wasm', 3, 2)).toEqual({ kind: 'workers', workers: 3, reason: 'configured' });
    expect(planExecutor('tensorflow', 2, 16)).toEqual({ kind: 'workers', workers: 2, reason: 'configured' });
  });

  it('rejects a negative or fractional count', () => {
    expect(() => planExecutor('wasm', -1, 2)).toThrow('planExecutor: expected workers to be an integer >= 0 or undefined, got -1');
    expect(() => planExecutor('wasm', 1.5, 2)).toThrow('got 1.5');
  });
});

describe('chooseExecutor', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-choose-'));
  const modelsDir = path.join(dir, 'models');
  const log = createLogger('silent');
  let database: Database;
  let registry: ModelRegistry;

  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    const generator = buildTestGenerator({ latentSize: 16, generatorFilters: 8 });
    await saveLayersModel(generator, path.join(modelsDir, 'tiny', 'generator'));
    generator.dispose();
    const manifest: ModelManifest = {
      formatVersion: 1,
      name: 'tiny',
      version: '1',
      architecture: 'dcgan',
      dataset: 'none',
      latentSize: 16,
      imageShape: [28, 28, 1],
      outputRange: [-1, 1],
      generatorPath: 'generator',
      training: {
        seed: 1,
        epochs: 0,
        batchSize: 1,
        learningRate: 0,
        beta1: 0,
        examples: 0,
        command: 'test',
        backend: 'wasm',
        finalLosses: { generator: 0, discriminator: 0 },
        durationSeconds: 0,
        finishedAt: new Date(0).toISOString(),
        architectureConfig: {},
      },
    };
    mkdirSync(path.join(modelsDir, 'tiny'), { recursive: true });
    writeFileSync(path.join(modelsDir, 'tiny', 'manifest.json'), JSON.stringify(manifest));
    database = openDatabase(`file:${path.join(dir, 'choose.db')}`);
    await database.migrate();
    registry = await ModelRegistry.load(modelsDir, database.prisma, log);
  });

  afterAll(async () => {
    registry?.dispose();
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts workers that load each registry model from its folder and match the in-process images', async () => {
    const executor = await chooseExecutor({ backend: 'wasm', workers: 1, registry, modelsDir, log });
    try {
      expect(executor.description).toBe('1 worker thread (wasm)');
      const z = seededLatents(4, 16, 9);
      const expected = await runGenerator(registry.getGenerating('tiny@1').generator, z, 4);
      expect(maxAbsDiff(await executor.generate('tiny@1', z.slice(), 4), expected)).toBeLessThanOrEqual(1e-5);
    } finally {
      await executor.close();
    }
  });

  it('runs in-process when told 0 workers', async () => {
    const executor = await chooseExecutor({ backend: 'wasm', workers: 0, registry, modelsDir, log });
    expect(executor.description).toBe('in-process wasm');
    expect(executor.concurrency).toBe(1);
    await executor.close();
  });
});
