import { describe, expect, it } from 'vitest';
import { REFERENCE_DATASETS } from '../../src/evaluation/reference-datasets';
import type { ScorerEntry } from '../../src/evaluation/scorer-catalog';
import type { ScorerManifest } from '../../src/evaluation/scorer-manifest';
import { scorerMisfit } from '../../src/evaluation/scorer-fit';

function scorer(name: string, dataset: string, classes: number, inputShape: [number, number, number]): ScorerEntry {
  const manifest: ScorerManifest = {
    formatVersion: 1,
    name,
    dataset,
    classes,
    inputShape,
    inputRange: [-1, 1],
    model: { format: 'layers-model', path: '.', featureLayer: 'features' },
    testAccuracy: 0.9,
    testExamples: 10,
    training: { command: 'x', seed: 0, split: 'x' },
  };
  return { name, dir: `/scorers/${name}`, manifest };
}

const digits = { id: 'dcgan-mnist@1', manifest: { dataset: 'mnist', imageShape: [28, 28, 1] as [number, number, number] } };
const colour = { id: 'dcgan-cifar@1', manifest: { dataset: 'cifar10', imageShape: [32, 32, 3] as [number, number, number] } };
const lookup = (name: string) => REFERENCE_DATASETS.get(name);

describe('scorerMisfit', () => {
  it("accepts a scorer of the model's dataset, and a general-purpose RGB scorer of another size for grayscale images (tiled, resized)", () => {
    expect(scorerMisfit(scorer('mnist-cnn', 'mnist', 10, [28, 28, 1]), digits, lookup)).toBeUndefined();
    expect(scorerMisfit(scorer('inception-v3', 'imagenet', 1008, [299, 299, 3]), digits, lookup)).toBeUndefined();
    expect(scorerMisfit(scorer('inception-v3', 'imagenet', 1008, [299, 299, 3]), colour, lookup)).toBeUndefined();
  });

  it('refuses a scorer that cannot take the channels of the images', () => {
    expect(scorerMisfit(scorer('mnist-cnn', 'mnist', 10, [28, 28, 1]), colour, lookup)).toBe(
      'expected a scorer taking 3-channel images like model dcgan-cifar@1, got "mnist-cnn" taking 28x28x1',
    );
  });

  it('refuses a scorer trained on another dataset ganql serves', () => {
    expect(scorerMisfit(scorer('fashion-mnist-cnn', 'fashion-mnist', 10, [28, 28, 1]), digits, lookup)).toBe(
      'expected a scorer trained on "mnist" (the dataset of model dcgan-mnist@1) or a general-purpose one, got "fashion-mnist-cnn", trained on "fashion-mnist"',
    );
  });

  it("refuses a scorer of the model's dataset with another class count", () => {
    expect(scorerMisfit(scorer('mnist-3', 'mnist', 3, [28, 28, 1]), digits, lookup)).toBe(
      'expected a scorer with the 10 classes of dataset mnist, got "mnist-3" with 3',
    );
  });
});
