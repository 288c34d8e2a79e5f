import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { classifierAccuracy, decisionScores, fitLinearClassifier, predictClasses } from '../../src/features/linear-classifier';

/** `perClass` points per class around centres[k] with N(0, spread) noise in each coordinate. */
function clusters(centres: number[][], perClass: number, spread: number, seed: number): { x: Float64Array[]; y: number[] } {
  const prng = createPrng(seed);
  const x: Float64Array[] = [];
  const y: number[] = [];
  centres.forEach((centre, k) => {
    for (let i = 0; i < perClass; i++) {
      x.push(Float64Array.from(centre, (c) => c + spread * prng.nextNormal()));
      y.push(k);
    }
  });
  return { x, y };
}

describe('fitLinearClassifier (one-vs-rest L2-SVM, dual coordinate descent)', () => {
  it('matches the hand-solved SVM on two points', () => {
    // x = +1 (class 1) and x = -1 (class 0): standardised they stay +-1; by symmetry the bias is 0 and
    // 1/2 w^2 + 2C (1 - w)^2 is least at w = 4C / (1 + 4C) = 0.8 for C = 1.
    const model = fitLinearClassifier([[1], [-1]], [1, 0], 2, { seed: 0, cCandidates: [1], tolerance: 1e-9 });
    expect(model.c).toBe(1);
    expect(model.crossValidation).toEqual([]);
    expect(model.weights[1][0]).toBeCloseTo(0.8, 6);
    expect(model.weights[1][1]).toBeCloseTo(0, 6);
    // Class 0's SVM is the mirror image.
    expect(model.weights[0][0]).toBeCloseTo(-0.8, 6);
    expect(Array.from(decisionScores(model, [[0.5]])[0])).toEqual([expect.closeTo(-0.4, 6), expect.closeTo(0.4, 6)]);
    // For C = 0.25: w = 1 / 2.
    const weak = fitLinearClassifier([[1], [-1]], [1, 0], 2, { seed: 0, cCandidates: [0.25], tolerance: 1e-9 });
    expect(weak.weights[1][0]).toBeCloseTo(0.5, 6);
  });

  it('standardises with the training statistics: a scaled, shifted copy of the data gives the same predictions', () => {
    const train = clusters(
      [
        [0, 0],
        [3, 0],
        [0, 3],
      ],
      10,
      0.6,
      1,
    );
    const test = clusters(
      [
        [0, 0],
        [3, 0],
        [0, 3],
      ],
      20,
      0.6,
      2,
    );
    const model = fitLinearClassifier(train.x, train.y, 3, { seed: 4 });
    const scale = (rows: Float64Array[]) => rows.map((r) => Float64Array.from(r, (v, j) => v * (j === 0 ? 1000 : 0.001) + 50));
    const scaled = fitLinearClassifier(scale(train.x), train.y, 3, { seed: 4 });
    expect(Array.from(predictClasses(scaled, scale(test.x)))).toEqual(Array.from(predictClasses(model, test.x)));
    expect(scaled.c).toBe(model.c);
  });

  it('separates separable clusters perfectly and is deterministic for a seed', () => {
    const train = clusters(
      [
        [0, 0, 0],
        [5, 0, 0],
        [0, 5, 0],
        [0, 0, 5],
      ],
      8,
      0.5,
      3,
    );
    const test = clusters(
      [
        [0, 0, 0],
        [5, 0, 0],
        [0, 5, 0],
        [0, 0, 5],
      ],
      25,
      0.5,
      4,
    );
    const model = fitLinearClassifier(train.x, train.y, 4, { seed: 9 });
    expect(classifierAccuracy(model, train.x, train.y)).toBe(1);
    expect(classifierAccuracy(model, test.x, test.y)).toBe(1);
    const again = fitLinearClassifier(train.x, train.y, 4, { seed: 9 });
    expect(again.weights.map((w) => Array.from(w))).toEqual(model.weights.map((w) => Array.from(w)));
    expect(again.crossValidation).toEqual(model.crossValidation);
    expect(model.crossValidation.map((r) => r.c)).toEqual([0.001, 0.01, 0.1, 1, 10]);
  });

  it('on noisy overlapping classes gets near the Bayes rate, and cross-validation prefers regularisation when features are mostly noise', () => {
    // Two classes at -1 and +1 on feature 0 with unit noise: Bayes accuracy Phi(1) = 0.841.
    // 20 pure-noise features make a weakly regularised fit on 40 examples overfit.
    const prng = createPrng(5);
    const make = (n: number) => {
      const x: Float64Array[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const label = i % 2;
        const row = new Float64Array(21);
        row[0] = (label === 1 ? 1 : -1) + prng.nextNormal();
        for (let j = 1; j < 21; j++) row[j] = prng.nextNormal();
        x.push(row);
        y.push(label);
      }
      return { x, y };
    };
    const train = make(40);
    const test = make(2000);
    const model = fitLinearClassifier(train.x, train.y, 2, { seed: 1 });
    const accuracy = classifierAccuracy(model, test.x, test.y);
    const overfit = fitLinearClassifier(train.x, train.y, 2, { seed: 1, cCandidates: [10] });
    const overfitAccuracy = classifierAccuracy(overfit, test.x, test.y);
    console.log(
      `noisy 21-d: chosen C ${model.c} accuracy ${accuracy.toFixed(3)}, C 10 accuracy ${overfitAccuracy.toFixed(3)}, CV ${JSON.stringify(model.crossValidation)}`,
    );
    expect(model.c).toBeLessThan(10);
    expect(accuracy).toBeGreaterThan(0.7);
    expect(accuracy).toBeLessThan(0.86);
    expect(accuracy).toBeGreaterThan(overfitAccuracy);
  });

  it('refuses bad input', () => {
    expect(() => fitLinearClassifier([], [], 2, { seed: 0 })).toThrow(/at least one example/);
    expect(() => fitLinearClassifier([[1], [2]], [0], 2, { seed: 0 })).toThrow(/one label per example \(2\), got 1/);
    expect(() => fitLinearClassifier([[1], [2]], [0, 2], 2, { seed: 0 })).toThrow(/labels in \[0, 1\], got 2 at row 1/);
    expect(() => fitLinearClassifier([[1], [2, 3]], [0, 1], 2, { seed: 0 })).toThrow(/length 1, got 2 at row 1/);
    expect(() => fitLinearClassifier([[1], [2]], [0, 1], 2, { seed: 0, cCandidates: [0] })).toThrow(/cCandidates/);
  });

  it('fits 100 examples of ~3,000 features in reasonable time (printed)', () => {
    const prng = createPrng(8);
    const x = Array.from({ length: 100 }, () => Float32Array.from({ length: 3000 }, () => prng.nextNormal()));
    const y = Array.from({ length: 100 }, (_, i) => i % 10);
    const started = performance.now();
    fitLinearClassifier(x, y, 10, { seed: 0 });
    const ms = performance.now() - started;
    console.log(`fit 100 x 3000, 10 classes, 5-fold CV over 5 C: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(20_000);
  });
});
