import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices, type Prng } from '../data/prng';
import type { TrainingData } from '../data/training-data';
import { badInput } from '../errors/ganql-error';

/**
 * The labelled examples of a K+1 or supervised run: which training images are labelled (chosen per
 * class by the seed) and the order training feeds them in.
 */

/** The labelled subset of a run: count images of the training shape and their classes. */
export interface LabelledImages {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

/**
 * `perClass` examples of each class 0..classes-1, chosen by `seed` among `labels` (a seeded shuffle,
 * then the first perClass of each class), returned as indices in ascending order. Throws when a class has too few.
 */
export function selectLabelled(labels: Uint8Array, classes: number, perClass: number, seed: number): Uint32Array {
  const order = shuffledIndices(labels.length, createPrng(seed * 7919 + 5));
  const taken = new Array<number>(classes).fill(0);
  const picked: number[] = [];
  for (const i of order) {
    const label = labels[i];
    if (label < classes && taken[label] < perClass) {
      taken[label]++;
      picked.push(i);
    }
  }
  const short = taken.findIndex((n) => n < perClass);
  if (short >= 0) throw new Error(`labelsPerClass: expected at least ${perClass} training examples of class ${short}, got ${taken[short]}`);
  return Uint32Array.from(picked.sort((a, b) => a - b));
}

/** The labelled examples of a run on `data` (selectLabelled's choice, copied out); too few of a class is BAD_USER_INPUT. */
export function labelledExamples(data: TrainingData, perClass: number, seed: number): LabelledImages {
  let picked: Uint32Array;
  try {
    picked = selectLabelled(data.labels, data.classes.length, perClass, seed);
  } catch (err) {
    throw badInput(`${(err as Error).message} (in the ${data.count} training images)`);
  }
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const images = new Float32Array(picked.length * size);
  const labels = new Uint8Array(picked.length);
  picked.forEach((src, i) => {
    images.set(data.images.subarray(src * size, (src + 1) * size), i * size);
    labels[i] = data.labels[src];
  });
  return { images, labels, count: picked.length };
}

/** One labelled batch: images [batchSize, h, w, c] and their classes (int32). The caller disposes both. */
export interface LabelledBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
}

/**
 * The labelled examples of epoch `epoch` in the order training feeds them: reshuffled passes over
 * the set, seeded by (seed, epoch), as the paper's code cycles its few labelled examples beside the
 * unlabelled batches. K+1 training and the supervised baseline both take their labelled batches
 * from here, so for one seed they see the same examples in the same order.
 */
export class LabelledCycle {
  private readonly prng: Prng;
  private order: Uint32Array;
  private next = 0;
  private readonly imageSize: number;

  constructor(
    private readonly labelled: LabelledImages,
    private readonly shape: [number, number, number],
    seed: number,
    epoch: number,
  ) {
    if (labelled.count < 1) throw new Error(`LabelledCycle: expected at least 1 labelled example, got ${labelled.count}`);
    this.imageSize = shape[0] * shape[1] * shape[2];
    // The stream K+1 training has always drawn its labelled order from (seed, epoch, stream 3).
    this.prng = createPrng(seed * 7919 + epoch * 4 + 3);
    this.order = shuffledIndices(labelled.count, this.prng);
  }

  /** Index (into the labelled set) of the next example; a new shuffled pass starts when one ends. */
  nextIndex(): number {
    if (this.next === this.order.length) {
      this.order = shuffledIndices(this.labelled.count, this.prng);
      this.next = 0;
    }
    return this.order[this.next++];
  }

  /** The next batchSize examples as tensors. */
  nextBatch(batchSize: number): LabelledBatch {
    const size = this.imageSize;
    const images = new Float32Array(batchSize * size);
    const labels = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const l = this.nextIndex();
      images.set(this.labelled.images.subarray(l * size, (l + 1) * size), b * size);
      labels[b] = this.labelled.labels[l];
    }
    return { images: tf.tensor4d(images, [batchSize, ...this.shape]), labels: tf.tensor1d(labels, 'int32') };
  }
}
