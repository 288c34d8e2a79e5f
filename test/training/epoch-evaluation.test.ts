import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { runEval } from '../../src/evaluation/eval.cli';
import { buildGenerator } from '../../src/models/dcgan';
import { generateImages } from '../../src/training/generator-pass';
import { EpochEvaluator, isEvalEpoch } from '../../src/training/epoch-evaluation';
import type { EpochEvent } from '../../src/training/session-options';
import { runTrainingSession } from '../../src/training/training-session';
import { checkTrainingSpec, type TrainingSpecInput } from '../../src/training/training-spec';

const SCORERS = path.resolve(__dirname, '../../models/scorers');
const tmp = (name: string): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-eval-epochs-')), name);

/** A tiny DCGAN run scored after epochs 2 and 3 on 1,000 samples (one IS split). */
const scored: TrainingSpecInput = {
  epochs: 3,
  batchSize: 16,
  limit: 32,
  latentSize: 8,
  filters: 8,
  seed: 6,
  generatorAverage: 0.1,
  evalEvery: 2,
  evalSamples: 1000,
};

describe('the per-epoch evaluation', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('is due every evalEvery epochs and at the last', () => {
    const spec = checkTrainingSpec({ epochs: 7, evalEvery: 3 });
    expect([1, 2, 3, 4, 5, 6, 7].filter((e) => isEvalEpoch(spec, e))).toEqual([3, 6, 7]);
    expect(isEvalEpoch(checkTrainingSpec({ epochs: 7 }), 7)).toBe(false);
  });

  it('gives the same figures twice for one generator and leaks no tensors', async () => {
    const spec = checkTrainingSpec({ epochs: 1, latentSize: 8, evalEvery: 1, evalSamples: 1000 });
    const g = buildGenerator({ latentSize: 8, generatorFilters: 8, seed: 1 });
    const before = tf.memory().numTensors;
    const evaluator = await EpochEvaluator.open(spec, [28, 28, 1], SCORERS);
    const generate = (latents: Float32Array, count: number): Float32Array[] => generateImages(g, null, latents, count);
    const first = await evaluator.evaluate(generate);
    const second = await evaluator.evaluate(generate);
    await evaluator.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(second).toEqual(first);
    // An untrained G: IS near its floor of 1, FID far from the digits'.
    expect(first.inceptionScore).toBeGreaterThanOrEqual(1);
    expect(first.inceptionScore).toBeLessThan(10);
    expect(first.inceptionScoreStd).toBe(0);
    expect(first.fid).toBeGreaterThan(50);
    expect(evaluator.scorerName).toBe('mnist-cnn');
    g.dispose();
  });

  it('writes IS and FID of the averaged G into history.json, the epoch events and the manifest, as npm run eval scores the version', async () => {
    const out = tmp('scored');
    const events: EpochEvent[] = [];
    const before = tf.memory().numTensors;
    const result = await runTrainingSession(checkTrainingSpec(scored), {
      outDir: out,
      name: 'scored',
      version: 'v1',
      command: 'test',
      scorersDir: SCORERS,
      onEpoch: (e) => void events.push(e),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.status).toBe('finished');
    if (result.status !== 'finished') return;
    const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { epoch: number; inceptionScore?: number; fid?: number }[];
    expect(history.map((h) => [h.epoch, h.inceptionScore !== undefined, h.fid !== undefined])).toEqual([
      [1, false, false],
      [2, true, true],
      [3, true, true],
    ]);
    expect(events.map((e) => e.inceptionScore)).toEqual(history.map((h) => h.inceptionScore));
    expect(events.map((e) => e.fid)).toEqual(history.map((h) => h.fid));
    const last = history[2];
    expect(result.manifest.training.metrics).toMatchObject({ inceptionScore: last.inceptionScore, fid: last.fid, inceptionScoreStd: 0 });
    expect(result.manifest.training.architectureConfig).toMatchObject({ evalEvery: 2, evalSamples: 1000, evalScorer: 'mnist-cnn', generatorAverageRate: 0.1 });

    // npm run eval on the saved version, with the evaluation's samples, splits and seed: the same figures
    // (to the rounding of serving's folded batchnorm), so the saved G is the evaluated one.
    const report = await runEval(
      ['--model', out, '--metrics', 'is,fid', '--samples', '1000', '--splits', '1', '--seed', '0', '--scorers-dir', SCORERS],
      () => undefined,
    );
    expect(report.output.inceptionScore?.mean).toBeCloseTo(last.inceptionScore ?? NaN, 5);
    expect(report.output.fid).toBeCloseTo(last.fid ?? NaN, 3);
  });

  it('refuses a dataset without a scorer before training, with BAD_USER_INPUT', async () => {
    const empty = tmp('no-scorers');
    mkdirSync(empty);
    const run = runTrainingSession(checkTrainingSpec({ ...scored, epochs: 1, evalEvery: 1 }), {
      outDir: tmp('x'),
      name: 'x',
      command: 'test',
      scorersDir: empty,
    });
    await expect(run).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: `evalEvery: expected a scorer of dataset "mnist" under ${empty} (npm run train:scorer makes one), got none`,
    });
  });
});
