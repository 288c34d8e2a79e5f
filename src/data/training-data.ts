import { UnreachableCaseError } from '../errors/unreachable';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from './fashion-mnist';
import { DIGIT_CLASSES, loadMnist, type MnistData } from './mnist';

/** The datasets ganql trains on (src/training/training-spec.ts TRAINING_DATASETS). */
export type DatasetName = 'mnist' | 'fashion-mnist';

export interface TrainingData extends MnistData {
  /** [height, width, channels] of each image. */
  shape: [number, number, number];
  /** Class names in label order. */
  classes: readonly string[];
}


/**
 * One split of a dataset, pixels in [-1, 1]. mnist: the `mnist` package's 10,000 digits split 9,000 /
 * 1,000 with the fixed seed 0 (the same held-out digits for every run, whatever the training seed);
 * fashion-mnist: the dataset's own 60,000 / 10,000 split from Debian's IDX files.
 */
export async function loadTrainingData(dataset: DatasetName, split: 'train' | 'test', options: { limit?: number; fashionMnistDir?: string } = {}): Promise<TrainingData> {
  switch (dataset) {
    case 'mnist':
      return { ...loadMnist({ split, seed: 0, limit: options.limit }), shape: [28, 28, 1], classes: DIGIT_CLASSES };
    case 'fashion-mnist': {
      const data = await loadFashionMnist({ split, limit: options.limit, ...(options.fashionMnistDir !== undefined ? { dir: options.fashionMnistDir } : {}) });
      return { ...data, shape: [28, 28, 1], classes: FASHION_MNIST_CLASSES };
    }
    default:
      throw new UnreachableCaseError(dataset);
  }
}
