import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { buildGenerator } from '../../src/models/dcgan';
import { loadGraphModelFromDir, loadLayersModel, saveLayersModel } from '../../src/models/io';

describe('saveLayersModel / loadLayersModel', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('round-trips a generator: same topology, same outputs, no leaked tensors', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-io-'));
    const g = buildGenerator({ generatorFilters: 8, latentSize: 10 });
    await saveLayersModel(g, dir);
    const before = tf.memory().numTensors;
    const loaded = await loadLayersModel(dir);
    expect(loaded.outputs[0].shape).toEqual([null, 28, 28, 1]);
    const z = tf.randomNormal([3, 10], 0, 1, 'float32', 3);
    const [a, b] = tf.tidy(() => [g, loaded].map((m) => (m.predict(z) as tf.Tensor).dataSync()));
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose(z);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
  });

  it('names the path when files are missing or corrupt', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-io-'));
    await expect(loadLayersModel(dir)).rejects.toThrow(`cannot read ${path.join(dir, 'model.json')}`);
    writeFileSync(path.join(dir, 'model.json'), '{ not json');
    await expect(loadLayersModel(dir)).rejects.toThrow(`${path.join(dir, 'model.json')} is not valid JSON`);
    const g = buildGenerator({ generatorFilters: 8, latentSize: 10 });
    await saveLayersModel(g, dir);
    g.dispose();
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(12));
    await expect(loadLayersModel(dir)).rejects.toThrow(/weights of .*: expected \d+ bytes, got 12/);
  });

  it('tells a layers model from a graph model: each loader refuses the other format', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-io-'));
    const g = buildGenerator({ generatorFilters: 8, latentSize: 10 });
    await saveLayersModel(g, dir);
    g.dispose();
    await expect(loadGraphModelFromDir(dir)).rejects.toThrow(`loadGraphModelFromDir: ${path.join(dir, 'model.json')}: expected { modelTopology: { node: [...] }`);
  });
});
