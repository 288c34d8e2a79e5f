import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from '../../src/data/fashion-mnist';
import { loadMnist, type MnistData } from '../../src/data/mnist';
import { inceptionScore } from '../../src/evaluation/inception-score';
import { loadScorer } from '../../src/evaluation/scorer';

const SCORERS = path.join(__dirname, '../../models/scorers');
const fashionInstalled = existsSync(path.join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));

async function accuracyOf(dir: string, data: MnistData): Promise<{ accuracy: number; isMean: number; recorded: number }> {
  const scorer = await loadScorer(dir);
  const { probs } = await scorer.predict(data.images, data.count, [28, 28, 1]);
  let correct = 0;
  for (let i = 0; i < data.count; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (probs.data[i * 10 + k] > probs.data[i * 10 + best]) best = k;
    if (best === data.labels[i]) correct++;
  }
  const recorded = scorer.manifest.testAccuracy;
  scorer.dispose();
  return { accuracy: correct / data.count, isMean: inceptionScore(probs).mean, recorded };
}

describe('the scorers shipped under models/scorers', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('mnist-cnn: reproduces its recorded test accuracy (>= 97%) on the held-out digits', async () => {
    const before = tf.memory().numTensors;
    const r = await accuracyOf(path.join(SCORERS, 'mnist-cnn'), loadMnist({ split: 'test', seed: 0 }));
    expect(r.accuracy).toBeCloseTo(r.recorded, 9);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.97);
    // Real, balanced digits classified confidently score close to the 10 classes.
    expect(r.isMean).toBeGreaterThan(8);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!fashionInstalled)('fashion-mnist-cnn: reproduces its recorded test accuracy (>= 88%) on the t10k images', async () => {
    const r = await accuracyOf(path.join(SCORERS, 'fashion-mnist-cnn'), await loadFashionMnist({ split: 'test' }));
    expect(r.accuracy).toBeCloseTo(r.recorded, 9);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.88);
  });
});
