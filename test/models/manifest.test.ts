import { describe, expect, it } from 'vitest';
import { generatorOf, parseManifest } from '../../src/models/manifest';

const training = {
  seed: 1,
  epochs: 1,
  batchSize: 10,
  learningRate: 0.003,
  beta1: 0.5,
  examples: 20,
  command: 'test',
  backend: 'wasm',
  finalLosses: { generator: 0, discriminator: 1 },
  durationSeconds: 1,
  finishedAt: '2026-12-05T00:00:00.000Z',
  architectureConfig: {},
};
const common = { formatVersion: 1, name: 'm', version: '1', architecture: 'mlp', dataset: 'mnist', imageShape: [28, 28, 1], outputRange: [-1, 1], training };
const classifier = { path: 'classifier', classes: ['0', '1'], inputRange: [-1, 1] };

describe('parseManifest', () => {
  it('takes a model that generates, one that classifies too, and one that only classifies', () => {
    const gan = parseManifest({ ...common, latentSize: 100, generatorPath: 'generator' }, 'gan');
    expect(generatorOf(gan)).toEqual({ path: 'generator', latentSize: 100 });
    const kPlusOne = parseManifest({ ...common, latentSize: 100, generatorPath: 'generator', classifier }, 'k');
    expect(generatorOf(kPlusOne)).toEqual({ path: 'generator', latentSize: 100 });
    const supervised = parseManifest({ ...common, discriminatorPath: 'discriminator', classifier }, 'supervised');
    expect(generatorOf(supervised)).toBeUndefined();
    expect(supervised.classifier).toEqual(classifier);
  });

  it('refuses a model that neither generates nor classifies, and a generator without its latent size or the reverse', () => {
    expect(() => parseManifest({ ...common, discriminatorPath: 'discriminator' }, 'none')).toThrow(
      'none: manifest field "generatorPath": expected a non-empty string, or a classifier on a model without a generator, got undefined',
    );
    expect(() => parseManifest({ ...common, generatorPath: 'generator' }, 'g')).toThrow('g: manifest field "latentSize": expected a positive integer, got undefined');
    expect(() => parseManifest({ ...common, latentSize: 100, classifier }, 'c')).toThrow(
      'c: manifest field "latentSize": expected none on a model without a generator (no generatorPath), got 100',
    );
    expect(() => parseManifest({ ...common, latentSize: 100, generatorPath: '' }, 'e')).toThrow(
      'e: manifest field "generatorPath": expected a non-empty string when present, got ""',
    );
    expect(() => parseManifest({ ...common, classifier: { ...classifier, classes: ['0'] } }, 'k')).toThrow(
      'k: manifest field "classifier.classes": expected an array of at least 2 non-empty class names, got ["0"]',
    );
  });
});
