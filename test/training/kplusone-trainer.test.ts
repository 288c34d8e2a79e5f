import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, kPlusOneClassifierOf } from '../../src/models/kplusone-mlp';
import { classificationError, KPlusOneTrainer, type KPlusOneTrainerOptions } from '../../src/training/kplusone-trainer';
import { selectLabelled, type LabelledImages } from '../../src/training/labelled-examples';

const tiny = { latentSize: 8, discriminatorUnits: [16, 8], generatorUnits: [16], seed: 3 };
const options = { batchSize: 8, learningRate: 0.003, beta1: 0.5, k: 1, seed: 11, featureLayer: 'd_hidden2', unsupervisedWeight: 0.5 };

/** 2 steps of K+1 training on 16 digits with the first 4 labelled (by index); returns losses, D's logit kernel and the tensor count. */
async function run(
  labels: Uint8Array,
  labelledIndices: number[],
  extra: Partial<KPlusOneTrainerOptions> = {},
): Promise<{ stats: number[][]; kernel: Float32Array; tensors: number[] }> {
  const data = loadMnist({ split: 'train', limit: 16 });
  const g = buildKPlusOneGenerator(tiny);
  const d = buildKPlusOneDiscriminator(tiny);
  const size = 784;
  const labelled: LabelledImages = {
    images: Float32Array.from(labelledIndices.flatMap((i) => Array.from(data.images.subarray(i * size, (i + 1) * size)))),
    labels: Uint8Array.from(labelledIndices.map((i) => labels[i])),
    count: labelledIndices.length,
  };
  const trainer = new KPlusOneTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, labelled, { ...options, ...extra });
  const stats: number[][] = [];
  const tensors: number[] = [];
  const epoch = await trainer.trainEpoch(0, (p) => {
    stats.push([p.losses.discriminator, p.losses.generator]);
    tensors.push(tf.memory().numTensors);
  });
  expect(epoch.steps).toBe(2);
  expect(epoch.dAccuracyReal).toBeGreaterThanOrEqual(0);
  expect(epoch.dAccuracyReal).toBeLessThanOrEqual(1);
  const kernel = d.getLayer('d_logits').getWeights()[0].dataSync() as Float32Array;
  trainer.dispose();
  g.dispose();
  d.dispose();
  return { stats, kernel: Float32Array.from(kernel), tensors };
}

describe('KPlusOneTrainer', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('trains 2 steps with finite losses, no tensor leak, and repeats exactly for a seed', async () => {
    const before = tf.memory().numTensors;
    const labels = loadMnist({ split: 'train', limit: 16 }).labels;
    const a = await run(labels, [0, 1, 2, 3]);
    expect(a.stats).toHaveLength(2);
    for (const [dLoss, gLoss] of a.stats) {
      expect(Number.isFinite(dLoss) && dLoss > 0).toBe(true);
      expect(Number.isFinite(gLoss) && gLoss >= 0).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    const b = await run(labels, [0, 1, 2, 3]);
    expect(b.stats).toEqual(a.stats);
    expect(Array.from(b.kernel)).toEqual(Array.from(a.kernel));
  });

  it("matches G's features against a batch of its own with featureBatch 'separate', and against the step's batch by default", async () => {
    const before = tf.memory().numTensors;
    const labels = loadMnist({ split: 'train', limit: 16 }).labels;
    const byDefault = await run(labels, [0, 1, 2, 3]);
    const step = await run(labels, [0, 1, 2, 3], { featureBatch: 'step' });
    const separate = await run(labels, [0, 1, 2, 3], { featureBatch: 'separate' });
    expect(step.stats).toEqual(byDefault.stats);
    // The first D step sees the same batches either way; G's first step matches other real images.
    expect(separate.stats[0][0]).toBe(byDefault.stats[0][0]);
    expect(separate.stats[0][1]).not.toBe(byDefault.stats[0][1]);
    expect(Number.isFinite(separate.stats[1][1]) && separate.stats[1][1] >= 0).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const again = await run(labels, [0, 1, 2, 3], { featureBatch: 'separate' });
    expect(again.stats).toEqual(separate.stats);
  });

  it('feeds only the labelled examples to the supervised loss', async () => {
    const labels = loadMnist({ split: 'train', limit: 16 }).labels;
    const a = await run(labels, [0, 1, 2, 3]);
    // Relabelling an unlabelled image (index 9) changes nothing ...
    const relabelled = Uint8Array.from(labels);
    relabelled[9] = (labels[9] + 1) % 10;
    const b = await run(relabelled, [0, 1, 2, 3]);
    expect(b.stats).toEqual(a.stats);
    expect(Array.from(b.kernel)).toEqual(Array.from(a.kernel));
    // ... while relabelling a labelled one changes the supervised loss and so the weights.
    const wrong = Uint8Array.from(labels);
    wrong[0] = (labels[0] + 1) % 10;
    const c = await run(wrong, [0, 1, 2, 3]);
    expect(c.stats[0][0]).not.toBe(a.stats[0][0]);
    expect(Array.from(c.kernel)).not.toEqual(Array.from(a.kernel));
  });

  it('rejects labels outside the K classes and a feature layer D lacks', () => {
    const data = loadMnist({ split: 'train', limit: 16 });
    const g = buildKPlusOneGenerator(tiny);
    const d = buildKPlusOneDiscriminator({ ...tiny, classes: 3 });
    const images = { images: data.images, count: data.count, shape: [28, 28, 1] as [number, number, number] };
    const labelled = { images: data.images.slice(0, 784), labels: Uint8Array.of(5), count: 1 };
    expect(() => new KPlusOneTrainer(g, d, images, labelled, options)).toThrow('labelled images: expected labels in 0..2, got 5');
    expect(() => new KPlusOneTrainer(g, d, images, { ...labelled, labels: Uint8Array.of(1) }, { ...options, featureLayer: 'nope' })).toThrow(
      'featureMatching.layer: expected one of',
    );
    g.dispose();
    d.dispose();
  });
});

describe('K+1 evaluation and labelled selection', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('classificationError counts argmax mistakes on a hand-made case', () => {
    // A "classifier" that reads the first 3 pixels as logits: image i has its largest value at pixel argmax[i].
    const input = tf.input({ shape: [2, 2, 1] });
    const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const first3 = tf.layers
      .dense({
        units: 3,
        useBias: false,
        weights: [
          tf.tensor2d([
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [0, 0, 0],
          ]),
        ],
      })
      .apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: first3 });
    const before = tf.memory().numTensors;
    const images = Float32Array.from([
      0.9,
      0.1,
      0.0,
      0, // class 0
      0.1,
      0.8,
      0.0,
      0, // class 1
      0.0,
      0.2,
      0.7,
      0, // class 2
      0.5,
      0.1,
      0.0,
      0, // class 0
      0.1,
      0.0,
      0.3,
      0, // class 2
    ]);
    const labels = Uint8Array.from([0, 1, 1, 0, 0]); // wrong on examples 2 and 4
    expect(classificationError(model, { images, labels, count: 5 }, [2, 2, 1])).toBeCloseTo(2 / 5, 10);
    // Batching does not change the count.
    expect(classificationError(model, { images, labels, count: 5 }, [2, 2, 1], 2)).toBeCloseTo(2 / 5, 10);
    expect(classificationError(model, { images, labels: Uint8Array.from([0, 1, 2, 0, 2]), count: 5 }, [2, 2, 1])).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('selectLabelled takes perClass examples of every class, chosen by the seed', () => {
    const labels = Uint8Array.from({ length: 200 }, (_, i) => i % 4);
    const a = selectLabelled(labels, 4, 3, 1);
    expect(a).toHaveLength(12);
    for (let c = 0; c < 4; c++) expect(Array.from(a).filter((i) => labels[i] === c)).toHaveLength(3);
    expect(Array.from(selectLabelled(labels, 4, 3, 1))).toEqual(Array.from(a));
    expect(Array.from(selectLabelled(labels, 4, 3, 2))).not.toEqual(Array.from(a));
    expect(() => selectLabelled(labels, 5, 3, 1)).toThrow('labelsPerClass: expected at least 3 training examples of class 4, got 0');
  });

  it('the served classifier equals D at inference (noise only in training) and differs from D in training mode', () => {
    const d = buildKPlusOneDiscriminator(tiny);
    const classifier = kPlusOneClassifierOf(d, tiny);
    expect(classifier.layers.some((l) => l.getClassName() === 'SeededGaussianNoise')).toBe(false);
    const x = tf.tensor4d(loadMnist({ limit: 4 }).images, [4, 28, 28, 1]);
    const [inference, served, training] = tf.tidy(() => [
      (d.predict(x) as tf.Tensor).arraySync() as number[][],
      (classifier.predict(x) as tf.Tensor).arraySync() as number[][],
      (d.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][],
    ]);
    expect(
      served
        .flat()
        .map((v, i) => Math.abs(v - inference.flat()[i]) < 1e-6)
        .every(Boolean),
    ).toBe(true);
    expect(training.flat().some((v, i) => Math.abs(v - inference.flat()[i]) > 1e-3)).toBe(true);
    x.dispose();
    classifier.dispose();
    d.dispose();
  });
});
