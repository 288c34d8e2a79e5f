import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist';
import { DEBIAN_FASHION_MNIST_DIR } from '../../src/data/fashion-mnist';
import { loadTrainingData } from '../../src/data/training-data';

describe('loadTrainingData', () => {
  it('mnist: the fixed seed-0 split of the mnist package, with shape and digit classes', async () => {
    const train = await loadTrainingData('mnist', 'train', { limit: 5 });
    const test = await loadTrainingData('mnist', 'test');
    expect(train.count).toBe(5);
    expect(test.count).toBe(1000);
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(Array.from(test.labels.subarray(0, 20))).toEqual(Array.from(loadMnist({ split: 'test', seed: 0 }).labels.subarray(0, 20)));
  });

  it('fashion-mnist: a missing file names the path and the Debian package', async () => {
    const dir = '/nonexistent/fashion';
    await expect(loadTrainingData('fashion-mnist', 'test', { fashionMnistDir: dir })).rejects.toThrow(
      /\/nonexistent\/fashion\/t10k-images-idx3-ubyte\.gz.*apt-get install dataset-fashion-mnist/s,
    );
    expect(DEBIAN_FASHION_MNIST_DIR).toBe('/usr/share/datasets/fashion-mnist');
  });
});
