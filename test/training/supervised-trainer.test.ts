import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadTrainingData, type TrainingData } from '../../src/data/training-data';
import { GanqlError } from '../../src/errors/ganql-error';
import { decodePng } from '../../src/images/png';
import { loadLayersModel } from '../../src/models/io';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator } from '../../src/models/kplusone-mlp';
import { initFromData } from '../../src/training/gan-models';
import { generatorOf, parseManifest } from '../../src/models/manifest';
import { readOnnxFile } from '../../src/onnx/onnx-file';
import { supervisedLoss } from '../../src/training/k-plus-one';
import { KPlusOneTrainer } from '../../src/training/kplusone-trainer';
import { labelledExamples, selectLabelled, type LabelledBatch, type LabelledImages } from '../../src/training/labelled-examples';
import type { EpochEvent, SessionOptions } from '../../src/training/session-options';
import { SupervisedTrainer } from '../../src/training/supervised-trainer';
import { runTrainingSession } from '../../src/training/training-session';
import { checkTrainingSpec, type TrainingSpecInput } from '../../src/training/training-spec';
import { maxWeightDiff, savedWeights } from '../helpers/saved-weights';

const SHAPE: [number, number, number] = [28, 28, 1];
/** The K+1 MLP's layout at a size that trains in milliseconds. */
const tiny = { latentSize: 8, discriminatorUnits: [64, 32], generatorUnits: [16], seed: 3 };
const trainerOptions = { batchSize: 10, learningRate: 0.003, beta1: 0.5, seed: 11 };

const tmp = (name: string): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-supervised-')), name);
const sessionOptions = (outDir: string, more: Partial<SessionOptions> = {}): SessionOptions => ({
  outDir,
  name: 'sup',
  version: 'v1',
  command: 'test',
  ...more,
});

/** The paper's D on 200 digits, 2 labels per class, batch 10: 2 updates an epoch. */
const supervised: TrainingSpecInput = {
  mode: 'supervised',
  dataset: 'mnist',
  epochs: 2,
  batchSize: 10,
  limit: 200,
  labelsPerClass: 2,
  learningRate: 0.003,
  seed: 4,
};

/** Mean cross-entropy of D (inference mode: noise off) over the labelled examples. */
function labelledLoss(d: tf.LayersModel, labelled: LabelledImages): number {
  const loss = tf.tidy(() =>
    supervisedLoss(d.predict(tf.tensor4d(labelled.images, [labelled.count, ...SHAPE])) as tf.Tensor2D, tf.tensor1d(Int32Array.from(labelled.labels), 'int32')),
  );
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/** A batch as plain arrays: its labels and its images' pixels. */
function readBatch(batch: LabelledBatch): { labels: number[]; images: number[] } {
  return { labels: Array.from(batch.labels.dataSync()), images: Array.from(batch.images.dataSync()) };
}

let data: TrainingData;
let labelled: LabelledImages;

beforeAll(async () => {
  await initBackend({ order: ['wasm'] });
  data = await loadTrainingData('mnist', 'train', { limit: 200 });
  labelled = labelledExamples(data, 2, 1);
});

describe('SupervisedTrainer', () => {
  it('lowers the cross-entropy of its labelled examples over a few epochs, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const d = buildKPlusOneDiscriminator(tiny);
    // As the session starts it: weight norm initialised on the labelled examples.
    initFromData(d, { images: labelled.images, count: labelled.count, shape: SHAPE }, 1);
    const trainer = new SupervisedTrainer(d, labelled, SHAPE, trainerOptions);
    expect(trainer.stepsPerEpoch()).toBe(2);
    const start = labelledLoss(d, labelled);
    const epochLosses: number[] = [];
    const steps: number[] = [];
    for (let epoch = 0; epoch < 10; epoch++) {
      const stats = await trainer.trainEpoch(epoch, (p) => {
        steps.push(p.step);
        expect(Number.isFinite(p.loss) && p.loss > 0).toBe(true);
      });
      expect(stats.steps).toBe(2);
      epochLosses.push(stats.loss);
    }
    expect(steps).toEqual(Array.from({ length: 10 }, () => [1, 2]).flat());
    const end = labelledLoss(d, labelled);
    expect(end).toBeLessThan(start / 2);
    expect(epochLosses[9]).toBeLessThan(epochLosses[0]);
    trainer.dispose();
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('repeats exactly for a seed, and moves with another', async () => {
    const weights = async (seed: number): Promise<number[][]> => {
      const d = buildKPlusOneDiscriminator(tiny);
      const trainer = new SupervisedTrainer(d, labelled, SHAPE, { ...trainerOptions, seed });
      await trainer.trainEpoch(0);
      await trainer.trainEpoch(1);
      const out = d.getWeights().map((w) => Array.from(w.dataSync()));
      trainer.dispose();
      d.dispose();
      return out;
    };
    const a = await weights(11);
    expect(maxWeightDiff(await weights(11), a)).toBe(0);
    expect(maxWeightDiff(await weights(12), a)).toBeGreaterThan(0);
  });

  it('does at least one update an epoch, with the parameter average the classifier is read with', async () => {
    const d = buildKPlusOneDiscriminator(tiny);
    const trainer = new SupervisedTrainer(d, labelled, SHAPE, { ...trainerOptions, batchSize: 64, averageRate: 0.5 });
    expect(trainer.stepsPerEpoch()).toBe(1);
    expect((await trainer.trainEpoch(0)).steps).toBe(1);
    expect(trainer.movingAverage?.count).toBe(1);
    trainer.dispose();
    d.dispose();
  });

  it('feeds the labelled batches K+1 training feeds for the seed, in the same order', async () => {
    const fed = async (make: () => { trainer: KPlusOneTrainer | SupervisedTrainer; dispose: () => void }, epoch: number) => {
      const { trainer, dispose } = make();
      const batches: { labels: number[]; images: number[] }[] = [];
      // The steps themselves are not run: only what each would be given.
      if (trainer instanceof KPlusOneTrainer) {
        vi.spyOn(trainer, 'trainStep').mockImplementation((l) => {
          batches.push(...l.map(readBatch));
          return { generator: 0, discriminator: 0, dAccuracyReal: 0, dAccuracyFake: 0, steps: 1 };
        });
      } else {
        vi.spyOn(trainer, 'trainStep').mockImplementation((b) => {
          batches.push(readBatch(b));
          return 0;
        });
      }
      await trainer.trainEpoch(epoch);
      dispose();
      return batches;
    };
    const images = { images: data.images, count: data.count, shape: SHAPE };
    const kPlusOne = () => {
      const g = buildKPlusOneGenerator(tiny);
      const d = buildKPlusOneDiscriminator(tiny);
      const trainer = new KPlusOneTrainer(g, d, images, labelled, { ...trainerOptions, k: 1, featureLayer: 'd_hidden2', unsupervisedWeight: 0.5 });
      const dispose = (): void => {
        trainer.dispose();
        g.dispose();
        d.dispose();
      };
      return { trainer, dispose };
    };
    const baseline = () => {
      const d = buildKPlusOneDiscriminator(tiny);
      const trainer = new SupervisedTrainer(d, labelled, SHAPE, { ...trainerOptions, stepsPerEpoch: steps });
      const dispose = (): void => {
        trainer.dispose();
        d.dispose();
      };
      return { trainer, dispose };
    };
    let steps: number | undefined;
    const before = tf.memory().numTensors;
    for (const epoch of [0, 1]) {
      const k = await fed(kPlusOne, epoch);
      // K+1: one labelled batch beside each of its 20 unlabelled ones.
      expect(k).toHaveLength(20);
      // By default the baseline takes one pass over the labelled examples: the first 2 of K+1's batches.
      steps = undefined;
      const pass = await fed(baseline, epoch);
      expect(pass).toEqual(k.slice(0, 2));
      // Each epoch's first pass covers the 20 labelled examples once.
      expect([...pass[0].labels, ...pass[1].labels].sort()).toEqual(Array.from(labelled.labels).sort());
      // With K+1's updates per epoch (as sessions run it), every one of K+1's labelled batches.
      steps = 20;
      expect(await fed(baseline, epoch)).toEqual(k);
    }
    // The order is the epoch's own.
    steps = undefined;
    expect((await fed(baseline, 0))[0]).not.toEqual((await fed(baseline, 1))[0]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses labels outside the K classes and images of another shape', () => {
    const d = buildKPlusOneDiscriminator({ ...tiny, classes: 3 });
    expect(() => new SupervisedTrainer(d, labelled, SHAPE, trainerOptions)).toThrow('labelled images: expected labels in 0..2, got 9');
    expect(() => new SupervisedTrainer(d, { ...labelled, labels: labelled.labels.map(() => 1) }, [14, 14, 4], trainerOptions)).toThrow(
      'discriminator input: expected [14,14,4], got [28,28,1]',
    );
    expect(() => new SupervisedTrainer(d, labelled, SHAPE, { ...trainerOptions, batchSize: 0 })).toThrow('batchSize: expected a positive integer, got 0');
    expect(() => new SupervisedTrainer(d, labelled, SHAPE, { ...trainerOptions, stepsPerEpoch: 0 })).toThrow(
      'stepsPerEpoch: expected a positive integer, got 0',
    );
    d.dispose();
  });
});

describe('supervised training sessions', () => {
  it('choose the labelled examples K+1 runs choose for the seed', () => {
    const picked = selectLabelled(data.labels, 10, 2, 1);
    expect(labelled.count).toBe(20);
    expect(Array.from(labelled.labels)).toEqual(Array.from(picked, (i) => data.labels[i]));
    expect(Array.from(labelled.images.subarray(784 * 3, 784 * 4))).toEqual(Array.from(data.images.subarray(784 * picked[3], 784 * (picked[3] + 1))));
  });

  it('write a version with the discriminator and the classifier and no generator, the test error per epoch, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const out = tmp('version');
    const epochs: EpochEvent[] = [];
    const stepsSeen: number[] = [];
    const result = await runTrainingSession(
      checkTrainingSpec(supervised),
      sessionOptions(out, { onEpoch: (e) => void epochs.push(e), onStep: (p) => void stepsSeen.push(p.stepsPerEpoch) }),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(result.status).toBe('finished');
    const manifest = parseManifest(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'manifest.json');
    expect(generatorOf(manifest)).toBeUndefined();
    expect(manifest).not.toHaveProperty('latentSize');
    expect(manifest).not.toHaveProperty('generatorPath');
    expect(manifest).toMatchObject({
      architecture: 'mlp',
      discriminatorPath: 'discriminator',
      classifier: { path: 'classifier', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], inputRange: [-1, 1] },
    });
    // It learned from the 20 labelled examples.
    expect(manifest.training).toMatchObject({ epochs: 2, batchSize: 10, examples: 20 });
    expect(manifest.training.architectureConfig).toMatchObject({
      mode: 'supervised',
      labelsPerClass: 2,
      discriminatorUnits: '1000-500-250-250-250',
      limit: 200,
    });
    expect(existsSync(path.join(out, 'generator'))).toBe(false);
    expect(existsSync(path.join(out, 'checkpoint'))).toBe(false);
    expect((await readOnnxFile(path.join(out, 'classifier'))).state).toBe('current');
    expect(readdirSync(out).filter((f) => f.endsWith('.onnx'))).toEqual(['classifier.onnx']);

    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    // A K+1 epoch's updates: floor(200 training images / batch 10), each on a labelled batch.
    expect(stepsSeen).toHaveLength(40);
    expect(new Set(stepsSeen)).toEqual(new Set([20]));
    for (const e of epochs) {
      expect(e.losses.generator).toBe(0);
      expect(e.losses.discriminator).toBeGreaterThan(0);
      expect([e.dAccuracyReal, e.dAccuracyFake]).toEqual([0, 0]);
      expect(e.testError).toBeGreaterThan(0);
      expect(e.testError).toBeLessThan(1);
    }
    const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { epoch: number; testError: number }[];
    expect(history.map((h) => [h.epoch, h.testError])).toEqual(epochs.map((e) => [e.epoch, e.testError]));
    expect(manifest.training.metrics).toEqual({ testError: epochs[1].testError });

    // The served classifier's test error is the one recorded (measured with the same averaged weights).
    const classifier = await loadLayersModel(path.join(out, 'classifier'));
    const test = await loadTrainingData('mnist', 'test');
    const predicted = tf.tidy(() => tf.argMax(classifier.predict(tf.tensor4d(test.images, [test.count, ...SHAPE])) as tf.Tensor2D, 1));
    const classes = predicted.dataSync();
    predicted.dispose();
    classifier.dispose();
    const wrong = Array.from(classes).filter((c, i) => c !== test.labels[i]).length;
    expect(Math.abs(wrong / test.count - epochs[1].testError!)).toBeLessThanOrEqual(2 / test.count);

    // The grid: the first 64 held-out images in colour, 8 a row; the misclassified ones have no green.
    const grid = decodePng(readFileSync(path.join(out, 'samples.png')));
    expect([grid.width, grid.height, grid.channels]).toEqual([8 * 28 + 9 * 2, 8 * 28 + 9 * 2, 3]);
    const greenOf = (i: number): number => {
      const x0 = 2 + (i % 8) * 30;
      const y0 = 2 + Math.floor(i / 8) * 30;
      let sum = 0;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) sum += grid.data[((y0 + y) * grid.width + x0 + x) * 3 + 1];
      return sum;
    };
    const red = Array.from({ length: 64 }, (_, i) => i).filter((i) => greenOf(i) === 0);
    expect(red.length).toBeGreaterThan(0);
    expect(red.length).toBeLessThan(64);
  });

  it('stop + resume ends with the same weights as an uninterrupted run', async () => {
    const spec = checkTrainingSpec(supervised);
    const straight = tmp('straight');
    expect((await runTrainingSession(spec, sessionOptions(straight))).status).toBe('finished');
    const resumed = tmp('resumed');
    let steps = 0;
    // 20 updates an epoch: stops 3 steps into the second.
    const stopped = await runTrainingSession(spec, sessionOptions(resumed, { onStep: () => void steps++, shouldStop: () => steps >= 23 }));
    expect(stopped).toEqual({ status: 'stopped', completedEpochs: 1 });
    const done = await runTrainingSession(spec, sessionOptions(resumed, { resume: true }));
    expect(done.status).toBe('finished');
    for (const part of ['discriminator', 'classifier']) {
      expect(maxWeightDiff(await savedWeights(path.join(resumed, part)), await savedWeights(path.join(straight, part)))).toBe(0);
    }
    const a = JSON.parse(readFileSync(path.join(straight, 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(path.join(resumed, 'manifest.json'), 'utf8'));
    expect(b.training.metrics).toEqual(a.training.metrics);
  });

  it('refuse fine-tuning and too few examples of a class', async () => {
    const spec = checkTrainingSpec(supervised);
    const fineTuned = runTrainingSession(spec, sessionOptions(tmp('ft'), { fineTuneFrom: '/somewhere' }));
    await expect(fineTuned).rejects.toBeInstanceOf(GanqlError);
    await expect(fineTuned).rejects.toThrow('fineTuneFrom: expected none in supervised mode (the supervised baseline trains from scratch), got "/somewhere"');
    // 15 images cannot hold 2 of each of 10 classes.
    const few = runTrainingSession(checkTrainingSpec({ ...supervised, limit: 15 }), sessionOptions(tmp('few')));
    await expect(few).rejects.toBeInstanceOf(GanqlError);
    await expect(few).rejects.toThrow(/^labelsPerClass: expected at least 2 training examples of class \d, got [01] \(in the 15 training images\)$/);
  });
});
