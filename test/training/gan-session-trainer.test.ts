import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadTrainingData } from '../../src/data/training-data';
import { decodePng } from '../../src/images/png';
import { gridPng } from '../../src/images/grid';
import { loadLayersModel } from '../../src/models/io';
import { DcganTrainer, seededNoise } from '../../src/training/dcgan-trainer';
import { buildModels } from '../../src/training/gan-models';
import { GanSessionTrainer, SAMPLE_NOISE_SALT } from '../../src/training/gan-session-trainer';
import { batchNormLayers, movingStatistics } from '../../src/training/techniques/standing-statistics';
import { checkTrainingSpec } from '../../src/training/training-spec';

/** Weights of a model by name ("g_up1/kernel", "g_project_bn/moving_mean", ...), as plain numbers. */
function byName(model: tf.LayersModel): Map<string, number[]> {
  return new Map(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
}

function maxDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  a.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b[i]))));
  return worst;
}

describe('GanSessionTrainer with a moving average of G', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('saves G at the corrected average of its weights after each step, with recomputed batchnorm statistics; D and the live G stay as trained', async () => {
    const rate = 0.2;
    const spec = checkTrainingSpec({ epochs: 1, batchSize: 16, limit: 64, latentSize: 8, filters: 8, seed: 4, generatorAverage: rate });
    const data = await loadTrainingData('mnist', 'train', { limit: spec.limit });
    const before = tf.memory().numTensors;
    const models = buildModels(spec, data.classes.length);
    const trainer = new DcganTrainer(models.generator, models.discriminator, data, {
      batchSize: spec.batchSize,
      learningRate: spec.learningRate,
      beta1: spec.beta1,
      k: spec.k,
      seed: spec.seed,
      generatorAverage: rate,
    });
    const session = new GanSessionTrainer(spec, models, trainer, data, undefined);
    const trainable = models.generator.trainableWeights.map((w) => w.originalName);
    // The hand-computed average of G's trainable weights after every step, in float64.
    const means = new Map(trainable.map((name) => [name, [] as number[]]));
    let steps = 0;
    const trained = await session.trainEpoch(
      0,
      () => {
        steps++;
        const live = byName(models.generator);
        for (const name of trainable) {
          const m = means.get(name) ?? [];
          live.get(name)?.forEach((x, i) => (m[i] = (m[i] ?? 0) + rate * (x - (m[i] ?? 0))));
        }
      },
      () => false,
    );
    expect([trained.steps, steps, trainer.gMovingAverage?.count]).toEqual([4, 4, 4]);
    const correction = 1 / (1 - Math.pow(1 - rate, steps));

    const liveG = byName(models.generator);
    const liveD = byName(models.discriminator);
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-gavg-')), 'v');
    await session.saveServed(dir);
    const png = session.samplesPng();
    const saved = await loadLayersModel(path.join(dir, 'generator'));
    const savedG = byName(saved);
    for (const name of trainable) {
      const expected = (means.get(name) ?? []).map((m) => m * correction);
      expect(maxDiff(savedG.get(name) ?? [], expected), name).toBeLessThan(1e-6);
      // Averaging moved them: the live weights are elsewhere.
      expect(maxDiff(savedG.get(name) ?? [], liveG.get(name) ?? []), name).toBeGreaterThan(1e-6);
    }
    // The batchnorm statistics were recomputed for the averaged weights: not the live ones.
    expect(batchNormLayers(saved).map((l) => l.name)).toEqual(['g_project_bn', 'g_up1_bn']);
    for (const layer of ['g_project_bn', 'g_up1_bn']) {
      for (const stat of ['moving_mean', 'moving_variance']) {
        const name = `${layer}/${stat}`;
        expect(maxDiff(savedG.get(name) ?? [], liveG.get(name) ?? []), name).toBeGreaterThan(1e-4);
      }
    }
    // ... and they are the ones use() puts in place.
    const inUse = trainer.gMovingAverage?.use(() => movingStatistics(models.generator)) ?? [];
    expect(
      maxDiff(
        inUse.flat().flatMap((t) => Array.from(t.dataSync())),
        ['g_project_bn', 'g_up1_bn'].flatMap((l) => [...(savedG.get(`${l}/moving_mean`) ?? []), ...(savedG.get(`${l}/moving_variance`) ?? [])]),
      ),
    ).toBe(0);
    tf.dispose(inUse.flat());
    // Saving changed nothing live: training goes on from the trained weights.
    for (const [name, v] of byName(models.generator)) expect(maxDiff(v, liveG.get(name) ?? []), name).toBe(0);
    const d = await loadLayersModel(path.join(dir, 'discriminator'));
    const savedD = byName(d);
    d.dispose();
    for (const [name, v] of liveD) expect(maxDiff(savedD.get(name) ?? [], v), name).toBe(0);

    // The epoch's grid is the saved G's on the fixed noise.
    const noise = seededNoise(64, 8, spec.seed + SAMPLE_NOISE_SALT);
    const images = tf.tidy(() => (saved.predict(tf.tensor2d(noise, [64, 8])) as tf.Tensor).dataSync());
    const grid = gridPng(
      Array.from({ length: 64 }, (_, i) => images.slice(i * 784, (i + 1) * 784) as Float32Array),
      { width: 28, height: 28, channels: 1, range: [-1, 1], columns: 8 },
    );
    expect(Buffer.compare(decodePng(grid).data, decodePng(png).data)).toBe(0);

    saved.dispose();
    session.dispose();
    models.generator.dispose();
    models.discriminator.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
