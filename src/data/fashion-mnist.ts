import * as path from 'node:path';
import { BYTE_RANGE, mapPixels, SIGNED_RANGE } from '../images/pixel-range';
import { readIdxFile } from './idx';
import type { MnistData } from './mnist';

/** Where Debian's `dataset-fashion-mnist` package installs the IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Class names of Fashion-MNIST labels 0..9 (Xiao et al. 2017). */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

export interface FashionMnistOptions {
  /** The dataset's own split: 60,000 'train' or 10,000 'test' images. */
  split: 'train' | 'test';
  /** Folder holding the four *-idx?-ubyte.gz files; defaults to Debian's. */
  dir?: string;
  /** Keep only the first `limit` images of the split. */
  limit?: number;
}

/**
 * Loads a split of Fashion-MNIST (28x28 grayscale, 10 classes) from its IDX files, pixels
 * scaled to [-1, 1] like loadMnist, in file order.
 */
export async function loadFashionMnist(options: FashionMnistOptions): Promise<MnistData> {
  const { split, dir = DEBIAN_FASHION_MNIST_DIR, limit } = options;
  if (split !== 'train' && split !== 'test') throw new Error(`loadFashionMnist: split: expected "train" or "test", got ${JSON.stringify(split)}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new Error(`loadFashionMnist: limit: expected a positive integer, got ${limit}`);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = path.join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsFile = path.join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  let images;
  let labels;
  try {
    // One after the other, so a missing pair always names the images file first.
    images = await readIdxFile(imagesFile);
    labels = await readIdxFile(labelsFile);
  } catch (err) {
    throw new Error(`loadFashionMnist: ${(err as Error).message} (on Debian: apt-get install dataset-fashion-mnist)`, { cause: err });
  }
  const [n, h, w] = images.shape;
  if (images.dtype !== 'uint8' || images.shape.length !== 3 || h !== 28 || w !== 28) {
    throw new Error(`loadFashionMnist: ${imagesFile}: expected uint8 [N, 28, 28], got ${images.dtype} [${images.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new Error(`loadFashionMnist: ${labelsFile}: expected uint8 [${n}], got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const count = limit === undefined ? n : Math.min(n, limit);
  const pixels = count * h * w;
  const out = mapPixels(images.data.subarray(0, pixels), BYTE_RANGE, SIGNED_RANGE);
  const labelData = Uint8Array.from(labels.data.subarray(0, count));
  for (let i = 0; i < count; i++) {
    if (labelData[i] > 9) throw new Error(`loadFashionMnist: ${labelsFile}: label ${i}: expected 0..9, got ${labelData[i]}`);
  }
  return { images: out, labels: labelData, count };
}
