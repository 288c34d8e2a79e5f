import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { GanqlError } from '../../src/errors/ganql-error';
import { decodePng } from '../../src/images/png';
import { loadLayersModel } from '../../src/models/io';
import { parseManifest } from '../../src/models/manifest';
import { loadServedGenerator } from '../../src/models/served-generator';
import { onnxFileOf, readOnnxFile } from '../../src/onnx/onnx-file';
import { gridPng } from '../../src/images/grid';
import { seededNoise } from '../../src/training/dcgan-trainer';
import { SAMPLE_NOISE_SALT } from '../../src/training/gan-session-trainer';
import type { EpochEvent, SessionOptions, StepEvent } from '../../src/training/session-options';
import { runTrainingSession } from '../../src/training/training-session';
import { checkTrainingSpec, type TrainingSpecInput } from '../../src/training/training-spec';
import { maxWeightDiff, savedWeights } from '../helpers/saved-weights';

const tmp = (name: string): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-session-')), name);
const options = (outDir: string, more: Partial<SessionOptions> = {}): SessionOptions => ({ outDir, name: 'tiny', version: 'v1', command: 'test', ...more });

/** A few-second K+1 run: the paper's MLP sizes but 60 images, 1 label per class, batch 10. */
const kPlusOne: TrainingSpecInput = {
  mode: 'kplusone',
  architecture: 'mlp',
  dataset: 'mnist',
  epochs: 1,
  batchSize: 10,
  limit: 60,
  labelsPerClass: 1,
  latentSize: 8,
  learningRate: 0.003,
  techniques: { featureMatching: { layer: 'd_hidden5' } },
};
/** A tiny DCGAN run with historical averaging (its running means are part of the checkpoint). */
const dcgan: TrainingSpecInput = {
  mode: 'gan',
  architecture: 'dcgan',
  dataset: 'mnist',
  epochs: 2,
  batchSize: 16,
  limit: 32,
  latentSize: 8,
  seed: 5,
  techniques: { historicalAveraging: { weight: 0.01 } },
};

describe('runTrainingSession', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('kplusone: writes a servable version with a classifier, manifest metrics and per-epoch events, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const out = tmp('kplusone');
    const epochs: EpochEvent[] = [];
    const steps: StepEvent[] = [];
    const result = await runTrainingSession(
      checkTrainingSpec(kPlusOne),
      options(out, { onEpoch: (e) => void epochs.push(e), onStep: (e) => void steps.push(e) }),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(result.status).toBe('finished');
    if (result.status !== 'finished') return;
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // A step's throughput is its batch of 10 unlabelled images over its own time.
    for (const s of steps) {
      expect(s.imagesPerSecond).toBeGreaterThan(0);
      expect(s.imagesPerSecond).toBeCloseTo(10 / (s.msPerStep / 1000), 6);
    }
    expect(epochs).toHaveLength(1);
    const e = epochs[0];
    expect(e).toMatchObject({ epoch: 1, epochs: 1 });
    // The epoch's 60 images over its training time, which is at least the sum of its steps' times.
    const stepSeconds = steps.reduce((sum, s) => sum + s.msPerStep / 1000, 0);
    expect(e.imagesPerSecond).toBeGreaterThan(0);
    expect(e.imagesPerSecond).toBeLessThanOrEqual(60 / stepSeconds);
    expect(e.imagesPerSecond).toBeGreaterThan(60 / e.seconds);
    expect(e.testError).toBeGreaterThanOrEqual(0);
    expect(e.testError).toBeLessThanOrEqual(1);
    expect(decodePng(e.samplesPng)).toMatchObject({ width: 8 * 28 + 9 * 2, height: 8 * 28 + 9 * 2 });

    const manifest = parseManifest(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'manifest.json');
    expect(manifest).toEqual(result.manifest);
    expect(manifest).toMatchObject({
      name: 'tiny',
      version: 'v1',
      architecture: 'mlp',
      dataset: 'mnist',
      latentSize: 8,
      imageShape: [28, 28, 1],
      outputRange: [-1, 1],
      generatorPath: 'generator',
      discriminatorPath: 'discriminator',
      classifier: { path: 'classifier', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], inputRange: [-1, 1] },
    });
    expect(manifest.training).toMatchObject({ seed: 42, epochs: 1, batchSize: 10, learningRate: 0.003, examples: 60, command: 'test', backend: 'wasm' });
    expect(manifest.training.metrics?.testError).toBe(e.testError);
    expect(manifest.training.architectureConfig).toMatchObject({
      mode: 'kplusone',
      labelsPerClass: 1,
      featureMatchingLayer: 'd_hidden5',
      discriminatorUnits: '1000-500-250-250-250',
    });
    expect(existsSync(path.join(out, 'checkpoint'))).toBe(false);
    expect(existsSync(path.join(out, 'samples', 'epoch-001.png'))).toBe(true);
    // The ONNX files ONNX Runtime serves, made from these weights; none for the discriminator, which it does not serve.
    expect((await readOnnxFile(path.join(out, 'generator'))).state).toBe('current');
    expect((await readOnnxFile(path.join(out, 'classifier'))).state).toBe('current');
    expect(existsSync(onnxFileOf(path.join(out, 'discriminator')))).toBe(false);

    // The classifier loads with standard layers only and gives 10 logits; the generator through the serving path.
    const classifier = await loadLayersModel(path.join(out, 'classifier'));
    expect(classifier.layers.map((l) => l.getClassName())).not.toContain('SeededGaussianNoise');
    // The weight-normalised output layer of G was saved as a plain dense one: standard layers only.
    const saved = await loadLayersModel(path.join(out, 'generator'));
    expect(saved.getLayer('g_pixels').getClassName()).toBe('Dense');
    saved.dispose();
    const generator = await loadServedGenerator(path.join(out, 'generator'));
    const [logitsShape, imageShape] = tf.tidy(() => [
      (classifier.predict(tf.zeros([3, 28, 28, 1])) as tf.Tensor).shape,
      (generator.predict(tf.zeros([3, 8])) as tf.Tensor).shape,
    ]);
    expect(logitsShape).toEqual([3, 10]);
    expect(imageShape).toEqual([3, 28, 28, 1]);
    // The served generator draws what the live one drew into samples.png (same fixed noise, 8-bit grid).
    const noise = seededNoise(64, 8, 42 + SAMPLE_NOISE_SALT);
    const flat = tf.tidy(() => (generator.predict(tf.tensor2d(noise, [64, 8])) as tf.Tensor).dataSync());
    const images = Array.from({ length: 64 }, (_, i) => flat.slice(i * 784, (i + 1) * 784) as Float32Array);
    const served = decodePng(gridPng(images, { width: 28, height: 28, channels: 1, range: [-1, 1], columns: 8 })).data;
    const live = decodePng(readFileSync(path.join(out, 'samples.png'))).data;
    expect(served.length).toBe(live.length);
    let worst = 0;
    for (let i = 0; i < live.length; i++) worst = Math.max(worst, Math.abs(served[i] - live[i]));
    expect(worst).toBeLessThanOrEqual(1);
    classifier.dispose();
    generator.dispose();
  });

  it.each([
    ['gan dcgan with historical averaging', dcgan],
    // The saved G is the moving average with its standing statistics: equal only if the checkpoint restored the average exactly.
    ['gan dcgan of 8 filters with a moving average of G', { ...dcgan, filters: 8, generatorAverage: 0.05, techniques: {} }],
    ['kplusone mlp', { ...kPlusOne, epochs: 2, seed: 9 }],
  ])('%s: stop + resume ends with the same weights as an uninterrupted run', async (_, input) => {
    const spec = checkTrainingSpec(input);
    const straight = tmp('straight');
    expect((await runTrainingSession(spec, options(straight))).status).toBe('finished');

    const resumed = tmp('resumed');
    const stepsPerEpoch = spec.mode === 'gan' ? 2 : 6;
    let steps = 0;
    const stopped = await runTrainingSession(spec, options(resumed, { onStep: () => void steps++, shouldStop: () => steps >= stepsPerEpoch + 1 }));
    expect(stopped).toEqual({ status: 'stopped', completedEpochs: 1 });
    expect(existsSync(path.join(resumed, 'checkpoint', 'state.json'))).toBe(true);
    const epochs: number[] = [];
    const done = await runTrainingSession(spec, options(resumed, { resume: true, onEpoch: (e) => void epochs.push(e.epoch) }));
    expect(done.status).toBe('finished');
    expect(epochs).toEqual([2]);
    for (const part of ['generator', 'discriminator']) {
      // A number, not toEqual: a diff of a million weights would take vitest minutes to print.
      expect(maxWeightDiff(await savedWeights(path.join(resumed, part)), await savedWeights(path.join(straight, part)))).toBe(0);
    }
    const a = JSON.parse(readFileSync(path.join(straight, 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(path.join(resumed, 'manifest.json'), 'utf8'));
    expect(b.training.finalLosses).toEqual(a.training.finalLosses);
    expect(b.training.metrics).toEqual(a.training.metrics);
  });

  it('resume: says so when there is no checkpoint or the spec changed', async () => {
    const out = tmp('none');
    await expect(runTrainingSession(checkTrainingSpec(dcgan), options(out, { resume: true }))).rejects.toThrow(
      `resume: expected a checkpoint in ${path.join(out, 'checkpoint')} (state.json), got none`,
    );
    let steps = 0;
    await runTrainingSession(checkTrainingSpec(dcgan), options(out, { onStep: () => void steps++, shouldStop: () => steps >= 1 }));
    const changed = runTrainingSession(checkTrainingSpec({ ...dcgan, learningRate: 0.001 }), options(out, { resume: true }));
    await expect(changed).rejects.toBeInstanceOf(GanqlError);
    await expect(runTrainingSession(checkTrainingSpec({ ...dcgan, learningRate: 0.001 }), options(out, { resume: true }))).rejects.toThrow(
      'resume: expected learningRate 0.0002 as in the checkpoint, got 0.001',
    );
  });

  it("fineTuneFrom starts from the version's weights and rejects an incompatible version", async () => {
    const source = tmp('source');
    await runTrainingSession(checkTrainingSpec({ ...dcgan, epochs: 1 }), options(source));
    // Stopped before the first step: the epoch-0 checkpoint holds the starting weights.
    const tuned = tmp('tuned');
    const spec = checkTrainingSpec({ ...dcgan, epochs: 1, seed: 77 });
    expect(await runTrainingSession(spec, options(tuned, { fineTuneFrom: source, shouldStop: () => true }))).toEqual({ status: 'stopped', completedEpochs: 0 });
    for (const part of ['generator', 'discriminator']) {
      expect(maxWeightDiff(await savedWeights(path.join(tuned, 'checkpoint', part)), await savedWeights(path.join(source, part)))).toBe(0);
    }
    // Without fine-tuning, seed 77 starts elsewhere.
    const fresh = tmp('fresh');
    await runTrainingSession(spec, options(fresh, { shouldStop: () => true }));
    expect(maxWeightDiff(await savedWeights(path.join(fresh, 'checkpoint', 'generator')), await savedWeights(path.join(source, 'generator')))).toBeGreaterThan(
      0,
    );

    await expect(runTrainingSession(checkTrainingSpec({ ...dcgan, latentSize: 16 }), options(tmp('bad'), { fineTuneFrom: source }))).rejects.toThrow(
      `fineTuneFrom: ${source}: expected architecture "dcgan", latentSize 16, imageShape [28,28,1] as in the spec, got architecture "dcgan", latentSize 8, imageShape [28,28,1]`,
    );
    await expect(
      runTrainingSession(
        checkTrainingSpec({ ...dcgan, mode: 'kplusone', labelsPerClass: 1, techniques: { featureMatching: { layer: 'd_flatten' } } }),
        options(tmp('k'), { fineTuneFrom: source }),
      ),
    ).rejects.toThrow('layer d_logit: expected weights kernel [3136,10], bias [10], got kernel [3136,1], bias [1]');
    // A DCGAN of another width is refused by its recorded filters, before any weight is copied.
    await expect(runTrainingSession(checkTrainingSpec({ ...dcgan, filters: 8 }), options(tmp('narrow'), { fineTuneFrom: source }))).rejects.toThrow(
      `fineTuneFrom: ${source}: expected generatorFilters 8, discriminatorFilters 8 as in the spec (filters), got generatorFilters 32, discriminatorFilters 32`,
    );
  });

  it('keeps a servable version every keepEvery epochs', async () => {
    const out = tmp('keep');
    const kept: string[] = [];
    await runTrainingSession(
      checkTrainingSpec({ ...dcgan, keepEvery: 1 }),
      options(out, { keepDir: (e) => path.join(out, 'keep', `e${e}`), onKeep: (dir, m) => void kept.push(`${dir}|${m.version}|${m.training.epochs}`) }),
    );
    expect(kept).toEqual([`${path.join(out, 'keep', 'e1')}|v1-epoch-001|1`, `${path.join(out, 'keep', 'e2')}|v1-epoch-002|2`]);
    expect(parseManifest(JSON.parse(readFileSync(path.join(out, 'keep', 'e1', 'manifest.json'), 'utf8')), 'm').training.epochs).toBe(1);
  });
});

describe('checkTrainingSpec: switches a model cannot carry', () => {
  it('rejects them with BAD_USER_INPUT before any work', () => {
    expect(() => checkTrainingSpec({ ...kPlusOne, techniques: { ...kPlusOne.techniques, labelSmoothing: 0.9 } })).toThrow(
      'techniques.labelSmoothing: expected none in kplusone mode',
    );
    expect(() => checkTrainingSpec({ epochs: 1, architecture: 'mlp', techniques: { minibatchDiscrimination: { kernels: 4, kernelDim: 3 } } })).toThrow(
      'techniques.minibatchDiscrimination: expected architecture "dcgan"',
    );
    expect(() => checkTrainingSpec({ epochs: 1, architecture: 'mlp', techniques: { virtualBatchNorm: { referenceSize: 4 } } })).toThrow(
      'techniques.virtualBatchNorm: expected architecture "dcgan" or mode "kplusone"',
    );
    expect(
      checkTrainingSpec({ ...kPlusOne, techniques: { ...kPlusOne.techniques, virtualBatchNorm: { referenceSize: 4 } } }).techniques.virtualBatchNorm,
    ).toEqual({ referenceSize: 4 });
  });
});
