import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { GanqlError } from '../../src/errors/ganql-error';
import { decodePng } from '../../src/images/png';
import { loadLayersModel } from '../../src/models/io';
import { parseManifest } from '../../src/models/manifest';
import { loadServedGenerator } from '../../src/models/served-generator';
import { buildDecoder, buildEncoder, sparseLayerNames } from '../../src/models/sparse-autoencoder';
import { AutoencoderTrainer, klSparsityPenalty, reconstructionLoss } from '../../src/training/autoencoder-trainer';
import { AUTOENCODER_SETTINGS } from '../../src/training/autoencoder-session';
import type { EpochEvent, SessionOptions, StepEvent } from '../../src/training/session-options';
import { runTrainingSession } from '../../src/training/training-session';
import { checkTrainingSpec, type TrainingSpecInput } from '../../src/training/training-spec';
import { maxWeightDiff, savedWeights } from '../helpers/saved-weights';

const tmp = (name: string): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-ae-')), name);
const options = (outDir: string, more: Partial<SessionOptions> = {}): SessionOptions => ({
  outDir,
  name: 'tiny-ae',
  version: 'v1',
  command: 'npm run train -- --mode autoencoder',
  ...more,
});

/** A few-second autoencoder run: 60 images, batches of 20, an 8-unit code. */
const tiny: TrainingSpecInput = { mode: 'autoencoder', dataset: 'mnist', epochs: 2, batchSize: 20, limit: 60, latentSize: 8, learningRate: 0.003, seed: 3 };

describe('autoencoder losses', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('KL sparsity: the mean over all units of KL(rho || mean activation), by hand', () => {
    const before = tf.memory().numTensors;
    const [one, two] = tf.tidy(() => {
      // Unit means 0.2 and 0.5 (first layer), 0.05 (second layer).
      const a = tf.tensor2d([
        [0.1, 0.5],
        [0.3, 0.5],
      ]);
      const b = tf.tensor2d([[0.05], [0.05]]);
      return [klSparsityPenalty([a], 0.05).dataSync()[0], klSparsityPenalty([a, b], 0.05).dataSync()[0]];
    });
    // KL(0.05 || 0.2) = 0.05 ln(0.25) + 0.95 ln(0.95 / 0.8) = 0.0939428; KL(0.05 || 0.5) = 0.05 ln(0.1) + 0.95 ln(1.9) = 0.4946319; KL(0.05 || 0.05) = 0.
    expect(one).toBeCloseTo((0.0939428 + 0.4946319) / 2, 5);
    expect(two).toBeCloseTo((0.0939428 + 0.4946319 + 0) / 3, 5);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => klSparsityPenalty([], 0.05)).toThrow('klSparsityPenalty: expected at least one activation, got none');
    expect(() => klSparsityPenalty([tf.zeros<tf.Rank.R2>([1, 1])], 1)).toThrow('klSparsityPenalty: expected a target in (0, 1), got 1');
  });

  it('a dead unit (mean 0) gives a finite penalty, its mean taken as 1e-6, not Infinity', () => {
    const value = tf.tidy(() => klSparsityPenalty([tf.zeros<tf.Rank.R2>([4, 1])], 0.05).dataSync()[0]);
    // 0.05 ln(0.05 / 1e-6) + 0.95 ln(0.95 / (1 - 1e-6)) = 0.541 - 0.0487
    expect(value).toBeCloseTo(0.4922612, 4);
  });

  it('reconstruction loss is the per-value MSE', () => {
    const value = tf.tidy(() => reconstructionLoss(tf.tensor1d([1, -1, 0, 0.5]), tf.tensor1d([0, -1, 1, 0.5])).dataSync()[0]);
    expect(value).toBeCloseTo(0.5, 6);
  });
});

describe('AutoencoderTrainer', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('the held-out reconstruction error falls over a few epochs on 200 digits, and no tensor leaks', async () => {
    const data = loadMnist({ split: 'train', seed: 0, limit: 200 });
    const config = { hiddenUnits: [64], codeSize: 16, seed: 1 };
    const encoder = buildEncoder(config);
    const decoder = buildDecoder(config);
    const before = tf.memory().numTensors;
    const trainer = new AutoencoderTrainer(
      encoder,
      decoder,
      { images: data.images, count: data.count, shape: [28, 28, 1] },
      {
        batchSize: 20,
        learningRate: 0.003,
        beta1: 0.9,
        seed: 1,
        sparseLayers: sparseLayerNames(config),
        sparsityTarget: 0.05,
        sparsityWeight: 0.3,
      },
    );
    const start = trainer.reconstructionError(data.images, data.count);
    const epochs = [];
    for (let e = 0; e < 4; e++) epochs.push(await trainer.trainEpoch(e));
    const end = trainer.reconstructionError(data.images, data.count);
    expect(epochs.map((s) => s.steps)).toEqual([10, 10, 10, 10]);
    expect(epochs[3].reconstruction).toBeLessThan(epochs[0].reconstruction);
    expect(end).toBeLessThan(start * 0.7);
    expect(epochs.every((s) => s.sparsity > 0)).toBe(true);
    trainer.dispose();
    // The optimizer's moments were the only tensors the trainer made.
    expect(tf.memory().numTensors).toBe(before);
    encoder.dispose();
    decoder.dispose();
  });

  it('rejects mismatched models and options', () => {
    const encoder = buildEncoder({ hiddenUnits: [8], codeSize: 4 });
    const decoder = buildDecoder({ hiddenUnits: [8], codeSize: 5 });
    const images = { images: new Float32Array(10 * 784), count: 10, shape: [28, 28, 1] as [number, number, number] };
    const o = { batchSize: 5, learningRate: 0.001, beta1: 0.9, seed: 1, sparseLayers: ['enc_code'], sparsityTarget: 0.05, sparsityWeight: 1 };
    expect(() => new AutoencoderTrainer(encoder, decoder, images, o)).toThrow('decoder input: expected the code shape [4], got [5]');
    const good = buildDecoder({ hiddenUnits: [8], codeSize: 4 });
    expect(() => new AutoencoderTrainer(encoder, good, images, { ...o, sparseLayers: ['enc_nope'] })).toThrow(
      'sparseLayers: expected encoder layers (image, enc_flatten, enc_noise, enc_hidden1, enc_code), got "enc_nope"',
    );
    expect(() => new AutoencoderTrainer(encoder, good, images, { ...o, sparsityTarget: 0 })).toThrow('sparsityTarget: expected a number in (0, 1), got 0');
    expect(() => new AutoencoderTrainer(encoder, good, images, { ...o, batchSize: 11 })).toThrow('images: expected at least batchSize = 11, got 10');
    [encoder, decoder, good].forEach((m) => m.dispose());
  });
});

describe('runTrainingSession in autoencoder mode', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('writes a servable version: decoder as generator, encoder as feature network, reconstruction grids, metrics; no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    const out = tmp('ae');
    const epochs: EpochEvent[] = [];
    const steps: StepEvent[] = [];
    const result = await runTrainingSession(checkTrainingSpec(tiny), options(out, { onEpoch: (e) => void epochs.push(e), onStep: (e) => void steps.push(e) }));
    expect(tf.memory().numTensors).toBe(before);
    expect(result.status).toBe('finished');
    if (result.status !== 'finished') return;
    expect(steps.map((s) => `${s.epoch}.${s.step}/${s.stepsPerEpoch}`)).toEqual(['1.1/3', '1.2/3', '1.3/3', '2.1/3', '2.2/3', '2.3/3']);
    // A step's throughput is its batch of 20 images over its own time.
    for (const s of steps) {
      expect(s.imagesPerSecond).toBeGreaterThan(0);
      expect(s.imagesPerSecond).toBeCloseTo(20 / (s.msPerStep / 1000), 6);
    }
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of epochs) {
      expect(e.imagesPerSecond).toBeGreaterThan(60 / e.seconds);
      expect(Number.isFinite(e.imagesPerSecond)).toBe(true);
      expect(e.losses.generator).toBeGreaterThan(0);
      expect(e.losses.discriminator).toBeGreaterThan(0);
      expect(e.dAccuracyReal).toBe(0);
      expect(e.dAccuracyFake).toBe(0);
      expect(e.reconstructionError).toBeGreaterThan(0);
      expect(e.reconstructionError).toBeLessThan(4);
      expect(decodePng(e.samplesPng)).toMatchObject({ width: 8 * 28 + 9 * 2, height: 8 * 28 + 9 * 2 });
    }

    const manifest = parseManifest(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'manifest.json');
    expect(manifest).toEqual(result.manifest);
    expect(manifest).toMatchObject({
      name: 'tiny-ae',
      version: 'v1',
      architecture: 'autoencoder',
      dataset: 'mnist',
      latentSize: 8,
      imageShape: [28, 28, 1],
      outputRange: [-1, 1],
      generatorPath: 'decoder',
      featureNetwork: { path: 'encoder', role: 'encoder', inputRange: [-1, 1] },
    });
    expect(manifest.discriminatorPath).toBeUndefined();
    expect(manifest.training).toMatchObject({
      seed: 3,
      epochs: 2,
      batchSize: 20,
      learningRate: 0.003,
      examples: 60,
      command: 'npm run train -- --mode autoencoder',
      backend: 'wasm',
    });
    expect(manifest.training.finalLosses).toEqual(epochs[1].losses);
    expect(manifest.training.metrics).toEqual({ reconstructionError: epochs[1].reconstructionError });
    expect(manifest.training.architectureConfig).toMatchObject({
      mode: 'autoencoder',
      hiddenUnits: AUTOENCODER_SETTINGS.hiddenUnits.join('-'),
      codeSize: 8,
      sparsityTarget: AUTOENCODER_SETTINGS.sparsityTarget,
      limit: 60,
    });
    expect(existsSync(path.join(out, 'checkpoint'))).toBe(false);
    expect(existsSync(path.join(out, 'samples', 'epoch-002.png'))).toBe(true);
    // The grid's first row is the first held-out digits: the same pixels in every epoch's grid.
    const first = decodePng(readFileSync(path.join(out, 'samples', 'epoch-001.png')));
    const second = decodePng(readFileSync(path.join(out, 'samples', 'epoch-002.png')));
    const rowBytes = first.width * first.channels * 30;
    expect(Buffer.from(first.data.subarray(0, rowBytes)).equals(Buffer.from(second.data.subarray(0, rowBytes)))).toBe(true);

    // The shipped encoder has standard layers only and the users' layer names; the decoder serves as a generator.
    const encoder = await loadLayersModel(path.join(out, 'encoder'));
    expect(encoder.layers.map((l) => l.name)).toEqual(['image', 'enc_flatten', 'enc_hidden1', 'enc_code']);
    const generator = await loadServedGenerator(path.join(out, 'decoder'));
    const [codeShape, imageShape] = tf.tidy(() => [
      (encoder.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape,
      (generator.predict(tf.zeros([2, 8])) as tf.Tensor).shape,
    ]);
    expect(codeShape).toEqual([2, 8]);
    expect(imageShape).toEqual([2, 28, 28, 1]);
    encoder.dispose();
    generator.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stop + resume ends with the same weights, losses and metrics as an uninterrupted run', async () => {
    const spec = checkTrainingSpec(tiny);
    const straight = tmp('straight');
    expect((await runTrainingSession(spec, options(straight))).status).toBe('finished');
    const resumed = tmp('resumed');
    let steps = 0;
    expect(await runTrainingSession(spec, options(resumed, { onStep: () => void steps++, shouldStop: () => steps >= 4 }))).toEqual({
      status: 'stopped',
      completedEpochs: 1,
    });
    expect(existsSync(path.join(resumed, 'checkpoint', 'state.json'))).toBe(true);
    const epochs: number[] = [];
    expect((await runTrainingSession(spec, options(resumed, { resume: true, onEpoch: (e) => void epochs.push(e.epoch) }))).status).toBe('finished');
    expect(epochs).toEqual([2]);
    for (const part of ['encoder', 'decoder']) {
      expect(maxWeightDiff(await savedWeights(path.join(resumed, part)), await savedWeights(path.join(straight, part)))).toBe(0);
    }
    const a = JSON.parse(readFileSync(path.join(straight, 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(path.join(resumed, 'manifest.json'), 'utf8'));
    expect(b.training.finalLosses).toEqual(a.training.finalLosses);
    expect(b.training.metrics).toEqual(a.training.metrics);
    await expect(runTrainingSession(checkTrainingSpec({ ...tiny, latentSize: 9 }), options(resumed, { resume: true }))).rejects.toThrow(
      `resume: expected a checkpoint in ${path.join(resumed, 'checkpoint')} (state.json), got none`,
    );
  });

  it('keeps a servable version every keepEvery epochs', async () => {
    const out = tmp('keep');
    const kept: string[] = [];
    await runTrainingSession(
      checkTrainingSpec({ ...tiny, keepEvery: 1 }),
      options(out, {
        keepDir: (e) => path.join(out, 'keep', `e${e}`),
        onKeep: (dir, m) => void kept.push(`${dir}|${m.version}|${m.training.epochs}|${m.featureNetwork?.path}`),
      }),
    );
    expect(kept).toEqual([`${path.join(out, 'keep', 'e1')}|v1-epoch-001|1|encoder`, `${path.join(out, 'keep', 'e2')}|v1-epoch-002|2|encoder`]);
    expect(existsSync(path.join(out, 'keep', 'e1', 'encoder', 'model.json'))).toBe(true);
  });

  it('refuses fine-tuning', async () => {
    const run = runTrainingSession(checkTrainingSpec(tiny), options(tmp('ft'), { fineTuneFrom: '/somewhere' }));
    await expect(run).rejects.toBeInstanceOf(GanqlError);
    await expect(runTrainingSession(checkTrainingSpec(tiny), options(tmp('ft'), { fineTuneFrom: '/somewhere' }))).rejects.toThrow(
      'fineTuneFrom: expected none in autoencoder mode (an autoencoder trains from scratch), got "/somewhere"',
    );
  });
});

describe('checkTrainingSpec in autoencoder mode', () => {
  it('defaults the architecture to mlp and checks a checked spec again', () => {
    const spec = checkTrainingSpec(tiny);
    expect(spec).toMatchObject({ mode: 'autoencoder', architecture: 'mlp', latentSize: 8, techniques: {} });
    expect(checkTrainingSpec(spec)).toEqual(spec);
  });

  it('refuses what has no meaning without a discriminator, with precise messages', () => {
    const bad: [Partial<TrainingSpecInput>, string][] = [
      [{ architecture: 'dcgan' }, 'architecture: expected "mlp" in autoencoder mode (the sparse autoencoder is a dense network), got "dcgan"'],
      [{ k: 2 }, 'k: expected none in autoencoder mode (there is no discriminator to step), got 2'],
      [{ generatorLoss: 'minimax' }, 'generatorLoss: expected none in autoencoder mode (the decoder is trained by reconstruction), got "minimax"'],
      [{ labelsPerClass: 10 }, 'labelsPerClass: expected none in autoencoder mode (labels are used only in kplusone and supervised modes), got 10'],
      [{ techniques: { labelSmoothing: 0.9 } }, 'techniques.labelSmoothing: expected none in autoencoder mode (the techniques are for GANs), got 0.9'],
      [
        { techniques: { featureMatching: { layer: 'enc_code' } } },
        'techniques.featureMatching: expected none in autoencoder mode (the techniques are for GANs), got {"layer":"enc_code"}',
      ],
    ];
    for (const [change, message] of bad) {
      expect(() => checkTrainingSpec({ ...tiny, ...change })).toThrow(message);
    }
  });
});
