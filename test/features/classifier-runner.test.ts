import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import type { ClassifierEvaluationInput } from '../../src/features/classifier-evaluation';
import {
  evaluateClassifiersInThread,
  evaluateClassifiersInWorker,
  findConceptFiltersInThread,
  findConceptFiltersInWorker,
} from '../../src/features/classifier-runner';

/** Three classes at separate centres in 20-d, `perClass` rows each, unit noise. */
function input(perClass: number, seed: number): ClassifierEvaluationInput['train'] {
  const prng = createPrng(seed);
  const width = 20;
  const labels = Uint8Array.from({ length: 3 * perClass }, (_, i) => i % 3);
  const features = Float32Array.from({ length: labels.length * width }, (_, k) => {
    const label = labels[Math.floor(k / width)];
    return (k % width === label ? 3 : 0) + prng.nextNormal();
  });
  return { features, width, labels };
}

describe('classifier runners', () => {
  it('the worker thread gives the same evaluations as the calling thread', async () => {
    const make = (): ClassifierEvaluationInput[] => [
      { train: input(6, 1), test: input(50, 2), classes: 3, seed: 5 },
      { train: input(4, 3), test: input(50, 4), classes: 3, seed: 6 },
    ];
    const here = await evaluateClassifiersInThread(make());
    const there = await evaluateClassifiersInWorker(make());
    expect(there).toEqual(here);
    expect(here[0]).toMatchObject({ features: 20, trainCount: 18, testCount: 150 });
    // Chance is 1/3.
    expect(here[0].accuracy).toBeGreaterThan(0.5);
    expect(here[0].crossValidation).toHaveLength(5);
  });

  it('a failure in the worker rejects with its message', async () => {
    const bad = { train: input(3, 1), test: { ...input(3, 2), width: 19 }, classes: 3, seed: 0 };
    await expect(evaluateClassifiersInWorker([bad])).rejects.toThrow(
      /classifier worker: evaluateLinearClassifier: expected train and test of one width, got 20 and 19/,
    );
  });

  it('finds the same concept filters on a worker as on this thread: filter 2 drives the concept', async () => {
    const prng = createPrng(4);
    const activations = Array.from({ length: 120 }, () => Float32Array.from({ length: 6 }, () => prng.nextNormal()));
    const isConcept = activations.map((a) => a[2] + 0.3 * prng.nextNormal() > 0.5);
    const request = { activations, isConcept, count: 3, seed: 0 };
    const here = await findConceptFiltersInThread(request);
    const there = await findConceptFiltersInWorker(request);
    expect(there).toEqual(here);
    expect(there.filters[0].filter).toBe(2);
    await expect(findConceptFiltersInWorker({ ...request, isConcept: activations.map(() => true) })).rejects.toThrow(
      /concept filters worker: conceptFilters: expected samples both of the concept and not/,
    );
  });
});
