import { readFileSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { loadScorer } from '../../src/evaluation/scorer';
import { parseScorerManifest } from '../../src/evaluation/scorer-manifest';
import { classifierAccuracy, trainClassifier } from '../../src/evaluation/scorer-trainer';
import { parseTrainScorerArgs, runTrainScorer, scorerCommandLine } from '../../src/evaluation/train-scorer.cli';
import { buildScorerCnn } from '../../src/models/scorer-cnn';

describe('parseTrainScorerArgs', () => {
  it('parses the documented command line with defaults', () => {
    expect(parseTrainScorerArgs(['--dataset', 'fashion-mnist', '--epochs', '3', '--seed', '7', '--out', 'models/scorers/x'])).toEqual({
      dataset: 'fashion-mnist',
      epochs: 3,
      seed: 7,
      out: 'models/scorers/x',
      batchSize: 64,
      learningRate: 0.001,
      limit: undefined,
    });
    expect(parseTrainScorerArgs(['--dataset=mnist', '--epochs=1', '--seed=0', '--out=o', '--limit=10', '--lr=0.01']).limit).toBe(10);
  });

  it('rejects unknown datasets, options and bad numbers with "expected X, got Y"', () => {
    const base = ['--epochs', '1', '--seed', '1', '--out', 'o'];
    expect(() => parseTrainScorerArgs(['--dataset', 'cifar', ...base])).toThrow('--dataset: expected one of mnist, fashion-mnist, got "cifar"');
    expect(() => parseTrainScorerArgs(['--dataset', 'mnist', ...base, '--foo', '1'])).toThrow(/got --foo/);
    expect(() => parseTrainScorerArgs(['--dataset', 'mnist', '--epochs', '0', '--seed', '1', '--out', 'o'])).toThrow(
      '--epochs: expected an integer >= 1, got "0"',
    );
    expect(() => parseTrainScorerArgs(['--dataset', 'mnist', ...base, '--lr', '2'])).toThrow('--lr: expected a number in (0, 1), got "2"');
    expect(() => parseTrainScorerArgs(['--dataset', 'mnist', '--epochs', '1', '--seed', '1'])).toThrow('--out: expected a value, got none');
  });

  it('records the command as it can be retyped', () => {
    expect(scorerCommandLine(['--out', 'a b'])).toBe("npx tsx src/evaluation/train-scorer.cli.ts --out 'a b'");
  });
});

describe('scorer training', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('learns above chance in a few steps (conv training on wasm needs the custom kernels) without leaking tensors', async () => {
    const train = loadMnist({ split: 'train', seed: 0, limit: 512 });
    const data = { images: train.images, labels: train.labels, count: train.count, shape: [28, 28, 1] as [number, number, number] };
    const model = buildScorerCnn({ filters1: 4, filters2: 8, featureUnits: 16, seed: 2 });
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const losses = await trainClassifier(model, data, 10, { epochs: 3, batchSize: 64, learningRate: 0.01, seed: 1 }, (p) => steps.push(p.step));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(losses).toHaveLength(3);
    // Chance is log(10) = 2.30.
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[2]).toBeLessThan(losses[1]);
    expect(losses[2]).toBeLessThan(2.0);
    const accuracy = await classifierAccuracy(model, data);
    expect(accuracy).toBeGreaterThan(0.3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('writes a loadable scorer folder with provenance (a smoke run of the CLI)', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'ganql-train-scorer-'));
    const argv = ['--dataset', 'mnist', '--epochs', '1', '--seed', '4', '--limit', '128', '--out', out];
    const lines: string[] = [];
    const manifest = await runTrainScorer(argv, (m) => lines.push(m));
    const onDisk = parseScorerManifest(JSON.parse(readFileSync(path.join(out, 'scorer.json'), 'utf8')), 'scorer.json');
    expect(onDisk).toEqual(manifest);
    expect(onDisk.training.command).toBe(`npx tsx src/evaluation/train-scorer.cli.ts ${argv.join(' ')}`);
    expect(onDisk.training.examples).toBe(128);
    expect(onDisk.testExamples).toBe(1000);
    expect(onDisk.model).toEqual({ format: 'layers-model', path: '.', featureLayer: 'features' });
    expect(lines.some((l) => /test accuracy \d+\.\d\d%/.test(l))).toBe(true);
    const scorer = await loadScorer(out);
    const test = loadMnist({ split: 'test', seed: 0, limit: 4 });
    const { probs, features } = await scorer.predict(test.images, 4, [28, 28, 1]);
    expect(probs.cols).toBe(10);
    expect(features.cols).toBe(128);
    scorer.dispose();
  });
});
