import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices } from '../data/prng';
import { SCORER_CNN_LAYERS } from '../models/scorer-cnn';

/** Labelled images, row-major [count, ...shape]. */
export interface LabelledImages {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
}

export interface ClassifierTrainingOptions {
  epochs: number;
  /** Images per Adam step; 64. */
  batchSize: number;
  /** Adam learning rate; 1e-3, Adam's usual default. */
  learningRate: number;
  /** Seed of the per-epoch shuffles. */
  seed: number;
}

export interface StepProgress {
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Mean cross-entropy of the epoch so far. */
  meanLoss: number;
  msPerStep: number;
}

/**
 * Trains a classifier built by buildScorerCnn (it must have a `logits` layer) with softmax
 * cross-entropy and Adam; the last partial batch of an epoch is kept. Returns each epoch's mean loss.
 */
export async function trainClassifier(
  model: tf.LayersModel,
  data: LabelledImages,
  classes: number,
  options: ClassifierTrainingOptions,
  onStep: (p: StepProgress) => void = () => undefined,
): Promise<number[]> {
  const { epochs, batchSize, learningRate, seed } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`trainClassifier: epochs: expected a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`trainClassifier: batchSize: expected a positive integer, got ${batchSize}`);
  if (!(learningRate > 0)) throw new Error(`trainClassifier: learningRate: expected > 0, got ${learningRate}`);
  const logitsModel = tf.model({ inputs: model.inputs, outputs: model.getLayer(SCORER_CNN_LAYERS.logits).output });
  const optimizer = tf.train.adam(learningRate);
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  const stepsPerEpoch = Math.ceil(data.count / batchSize);
  const batchImages = new Float32Array(batchSize * pixels);
  const batchLabels = new Int32Array(batchSize);
  const epochLosses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      // One stream per epoch: resuming or reordering epochs would not change an epoch's order.
      const order = shuffledIndices(data.count, createPrng(seed * 7919 + epoch));
      let lossSum = 0;
      let seen = 0;
      const started = performance.now();
      for (let step = 0; step < stepsPerEpoch; step++) {
        const from = step * batchSize;
        const b = Math.min(batchSize, data.count - from);
        for (let i = 0; i < b; i++) {
          const src = order[from + i];
          batchImages.set(data.images.subarray(src * pixels, (src + 1) * pixels), i * pixels);
          batchLabels[i] = data.labels[src];
        }
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(batchImages.subarray(0, b * pixels), [b, ...data.shape]);
          const y = tf.oneHot(tf.tensor1d(batchLabels.subarray(0, b), 'int32'), classes);
          // minimize returns the loss scalar, kept out of the tidy by returning it.
          return optimizer.minimize(() => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, logitsModel.apply(x) as tf.Tensor), true) as tf.Scalar;
        });
        const value = (await loss.data())[0];
        loss.dispose();
        lossSum += value * b;
        seen += b;
        onStep({ epoch, step: step + 1, stepsPerEpoch, meanLoss: lossSum / seen, msPerStep: (performance.now() - started) / (step + 1) });
      }
      epochLosses.push(lossSum / seen);
    }
  } finally {
    optimizer.dispose();
  }
  return epochLosses;
}

/** Fraction of `data` whose most probable class (the model's output argmax) equals the label. */
export async function classifierAccuracy(model: tf.LayersModel, data: LabelledImages, batchSize = 500): Promise<number> {
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  let correct = 0;
  for (let from = 0; from < data.count; from += batchSize) {
    const b = Math.min(batchSize, data.count - from);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(from * pixels, (from + b) * pixels), [b, ...data.shape]);
      return (model.predict(x) as tf.Tensor).argMax(-1);
    });
    const classes = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < b; i++) if (classes[i] === data.labels[from + i]) correct++;
  }
  return correct / data.count;
}
