import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { formatReport, parseEvalArgs, runEval } from '../../src/evaluation/eval.cli';

describe('parseEvalArgs', () => {
  it('reads the README command, with the documented defaults', () => {
    expect(parseEvalArgs(['--model', 'models/dcgan-mnist', '--metrics', 'is,fid,kid,parzen', '--samples', '10000', '--seed', '0'])).toEqual({
      subject: { kind: 'model', dir: 'models/dcgan-mnist' },
      dataset: undefined,
      metrics: ['INCEPTION_SCORE', 'FID', 'KID', 'PARZEN'],
      samples: 10000,
      seed: 0,
      splits: 10,
      scorer: undefined,
      scorersDir: 'models/scorers',
      json: false,
      nearest: undefined,
    });
    expect(parseEvalArgs(['--noise', '--json', '--splits=5'])).toMatchObject({
      subject: { kind: 'noise' },
      metrics: ['INCEPTION_SCORE'],
      samples: 10000,
      splits: 5,
      json: true,
    });
  });

  it('refuses bad command lines, saying what was expected', () => {
    expect(() => parseEvalArgs([])).toThrow('Expected exactly one of --model DIR, --real, --noise, got none');
    expect(() => parseEvalArgs(['--real', '--noise'])).toThrow('Expected exactly one of --model DIR, --real, --noise, got --real and --noise');
    expect(() => parseEvalArgs(['--real', '--metrics', 'is,fjd'])).toThrow('--metrics: expected a comma list of is, fid, kid, parzen, got "fjd"');
    expect(parseEvalArgs(['--real', '--metrics', 'parzen']).metrics).toEqual(['PARZEN']);
    expect(() => parseEvalArgs(['--noise', '--samples', '99'])).toThrow('--samples: expected an integer in 100..50000, got "99"');
    expect(() => parseEvalArgs(['--noise', '--splits', '51'])).toThrow('--splits: expected an integer in 1..50, got "51"');
    expect(() => parseEvalArgs(['--noise', '--dataset', 'cifar'])).toThrow('--dataset: expected one of mnist, fashion-mnist, got "cifar"');
    expect(() => parseEvalArgs(['--model', 'm', '--dataset', 'mnist'])).toThrow('--dataset: expected it only with --real or --noise');
    expect(() => parseEvalArgs(['--noise', '--sample', '5'])).toThrow('Expected one of --model, --dataset, --metrics');
    expect(() => parseEvalArgs(['--noise', '--samples', 'many'])).toThrow('--samples: expected an integer in 100..50000, got "many"');
    expect(() => parseEvalArgs(['--noise', '--json=yes'])).toThrow('--json: expected no value, got "yes"');
    expect(() => parseEvalArgs(['--noise', '--metrics'])).toThrow('--metrics: expected a value, got nothing');
    expect(() => parseEvalArgs(['--noise', '--nearest', 'a.png'])).toThrow('--nearest: expected it with --model or --real, got --noise');
    expect(() => parseEvalArgs(['--real', '--nearest', 'a.jpg'])).toThrow('--nearest: expected a .png file to write, got "a.jpg"');
    expect(parseEvalArgs(['--real', '--nearest', 'figures/a.png']).nearest).toBe('figures/a.png');
  });
});

describe('runEval', () => {
  it('scores uniform noise offline: an Inception Score far below the shipped DCGAN and the real digits', async () => {
    const logged: string[] = [];
    const report = await runEval(['--noise', '--samples', '200', '--splits', '2', '--seed', '3'], (m) => logged.push(m));
    expect(report).toMatchObject({
      subject: 'uniform noise images (28x28x1)',
      dataset: 'mnist',
      scorer: 'mnist-cnn',
      samples: 200,
      seed: 3,
      splits: 2,
      referenceImages: null,
    });
    const is = report.output.inceptionScore!;
    expect(is.mean).toBeGreaterThanOrEqual(1);
    expect(is.mean).toBeLessThan(2.5);
    expect(is.splitScores).toHaveLength(2);
    expect(formatReport(report)).toMatch(
      /^uniform noise images \(28x28x1\): 200 images, seed 3, scorer mnist-cnn \(test accuracy 98\.4%\)\nInception Score {2}\d\.\d{3} ± \d\.\d{3} \(mean ± std over 2 splits\)\n/,
    );
  });

  it('gives the Parzen ceiling with --real: windows on training images, scored on the held-out digits like a model', async () => {
    const logged: string[] = [];
    const real = await runEval(['--real', '--metrics', 'is,parzen', '--samples', '300', '--splits', '1', '--seed', '0'], (m) => logged.push(m));
    const noise = await runEval(['--noise', '--metrics', 'parzen', '--samples', '300', '--splits', '1', '--seed', '0'], () => undefined);
    expect(logged).toContain('parzen: windows on the first 300 mnist training images');
    // The Inception Score still scores the 300 test images; the windows are on 300 training images.
    expect(real.samples).toBe(300);
    expect(real.output.inceptionScore!.mean).toBeGreaterThan(7);
    expect(real.output.parzenSamples).toBe(300);
    expect(real.output.parzen!.mean).toBeGreaterThan(noise.output.parzen!.mean + 300);
    expect(formatReport(real)).toMatch(/Parzen LL {8}-?\d+\.\d ± \d+\.\d nats \(sigma 0\.\d{4}, windows on 300 samples/);
  });

  it('scores the shipped DCGAN offline between noise and real digits, and frees every tensor it made', async () => {
    const args = ['--model', 'models/dcgan-mnist', '--samples', '100', '--splits', '1', '--seed', '0'];
    const first = await runEval(args, () => undefined);
    const tensors = tf.memory().numTensors;
    const again = await runEval(args, () => undefined);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(again.output.inceptionScore).toEqual(first.output.inceptionScore);
    expect(first.subject).toBe('model dcgan-mnist@2026-12-06T04-16 (models/dcgan-mnist)');
    expect(first.output.inceptionScore!.mean).toBeGreaterThan(3);
    expect(first.output.inceptionScore!.mean).toBeLessThan(10);
  });

  it('writes the shipped DCGAN samples beside their nearest training digits, and how far they are beside real held-out digits', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-nearest-'));
    try {
      const file = path.join(dir, 'figures', 'nearest.png');
      const report = await runEval(['--model', 'models/dcgan-mnist', '--samples', '100', '--splits', '1', '--nearest', file], () => undefined);
      const { subject, real, shown, figure } = report.nearest!;
      expect({ shown, figure }).toEqual({ shown: 16, figure: file });
      // Eight columns, four rows (samples, neighbours, samples, neighbours) of 28-pixel images with 2-pixel gaps.
      expect(decodePng(readFileSync(file))).toMatchObject({ width: 8 * 28 + 9 * 2, height: 4 * 28 + 5 * 2, channels: 1 });
      expect(subject.images).toBe(256);
      expect(real!.images).toBe(256);
      // Neither copies of training digits (distance 0) nor noise (about 9 with pixels in [0, 1]).
      expect(subject.min).toBeGreaterThan(0.5);
      expect(subject.median).toBeLessThan(8);
      expect(real!.closerThanRealMin).toBe(0);
      expect(formatReport(report)).toMatch(/Nearest training image \(pixel L2, pixels in \[0, 1\]\): median \d+\.\d\d, min \d+\.\d\d over 256 images; figure /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
