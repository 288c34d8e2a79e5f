import { describe, expect, it } from 'vitest';
import { createPrng, shuffledIndices } from '../../src/data/prng';
import { inceptionScore } from '../../src/evaluation/inception-score';

describe('inceptionScore', () => {
  it('is 1 for uniform predictions (p(y|x) = p(y), every KL is 0)', () => {
    const probs = Array.from({ length: 20 }, () => [0.2, 0.2, 0.2, 0.2, 0.2]);
    const is = inceptionScore(probs, { splits: 4 });
    expect(is.splitScores).toHaveLength(4);
    for (const s of is.splitScores) expect(s).toBeCloseTo(1, 14);
    expect(is.mean).toBeCloseTo(1, 14);
    expect(is.std).toBeCloseTo(0, 14);
  });

  it('is K for one-hot predictions spread evenly over K classes (KL = log K), with 0 log 0 = 0', () => {
    // 40 rows cycling through 4 classes; 10 splits of 4 rows each hold every class once.
    const probs = Array.from({ length: 40 }, (_, i) => [0, 1, 2, 3].map((k) => (k === i % 4 ? 1 : 0)));
    const is = inceptionScore(probs, { splits: 10 });
    for (const s of is.splitScores) expect(s).toBeCloseTo(4, 12);
    expect(is.mean).toBeCloseTo(4, 12);
    expect(is.std).toBeCloseTo(0, 12);
    expect(Number.isNaN(is.mean)).toBe(false);
  });

  it('matches a hand computation with 2 splits', () => {
    // Split 1: [1,0], [0,1]; marginal [1/2, 1/2]; each row's KL = 1 * log(1 / (1/2)) = log 2; score exp(log 2) = 2.
    // Split 2: [3/4,1/4], [1/4,3/4]; marginal [1/2, 1/2]; each row's KL = 3/4 log(3/2) + 1/4 log(1/2),
    //   so the score is (3/2)^(3/4) * (1/2)^(1/4) = ((3/2)^3 * 1/2)^(1/4) = 1.6875^(1/4) = 1.139753...
    const probs = [
      [1, 0],
      [0, 1],
      [0.75, 0.25],
      [0.25, 0.75],
    ];
    const s2 = 1.6875 ** 0.25;
    expect(s2).toBeCloseTo(1.1397535, 6);
    const is = inceptionScore(probs, { splits: 2 });
    expect(is.splitScores[0]).toBeCloseTo(2, 14);
    expect(is.splitScores[1]).toBeCloseTo(s2, 14);
    // Mean (2 + s2) / 2 = 1.569877; population std |2 - s2| / 2 = 0.430123.
    expect(is.mean).toBeCloseTo((2 + s2) / 2, 14);
    expect(is.std).toBeCloseTo((2 - s2) / 2, 14);
  });

  it('splits unevenly at floor(i * N / splits) as the reference does, not as np.array_split', () => {
    // N = 5, 2 splits: rows [0, 2) and [2, 5) (np.array_split would give [0, 3) and [3, 5)).
    // Split 1: [1,0], [0,1] -> 2. Split 2: [1,0], [1,0], [0,1]; marginal [2/3, 1/3];
    //   KLs log(3/2), log(3/2), log(3); score (1.5 * 1.5 * 3)^(1/3) = 6.75^(1/3) = 1.889882...
    const probs = [
      [1, 0],
      [0, 1],
      [1, 0],
      [1, 0],
      [0, 1],
    ];
    const is = inceptionScore(probs, { splits: 2 });
    expect(is.splitScores[0]).toBeCloseTo(2, 14);
    expect(is.splitScores[1]).toBeCloseTo(6.75 ** (1 / 3), 14);
    expect(6.75 ** (1 / 3)).toBeCloseTo(1.889882, 6);
  });

  it('shuffles rows with the seeded PRNG of src/data/prng.ts before splitting when shuffleSeed is given', () => {
    const prng = createPrng(9);
    const probs = Array.from({ length: 30 }, () => {
      const row = [prng.next() + 0.01, prng.next() + 0.01, prng.next() + 0.01];
      const s = row[0] + row[1] + row[2];
      return row.map((v) => v / s);
    });
    const order = shuffledIndices(30, createPrng(123));
    const permuted = Array.from(order, (i) => probs[i]);
    const shuffled = inceptionScore(probs, { splits: 3, shuffleSeed: 123 });
    const manual = inceptionScore(permuted, { splits: 3 });
    expect(shuffled.splitScores).toEqual(manual.splitScores);
    expect(inceptionScore(probs, { splits: 3 }).splitScores).not.toEqual(shuffled.splitScores);
    // With one split the order cannot matter.
    expect(inceptionScore(probs, { splits: 1, shuffleSeed: 5 }).mean).toBeCloseTo(inceptionScore(probs, { splits: 1 }).mean, 14);
  });

  it('accepts a float64 Matrix as well as nested arrays', () => {
    const data = new Float64Array([1, 0, 0, 1, 0.75, 0.25, 0.25, 0.75]);
    const is = inceptionScore({ data, rows: 4, cols: 2 }, { splits: 2 });
    expect(is.splitScores[0]).toBeCloseTo(2, 14);
  });

  it('rejects bad input with "expected X, got Y"', () => {
    expect(() => inceptionScore([[0.5, 0.6]], { splits: 1 })).toThrow(/row 0: expected a sum of 1 \(within 0.001\), got 1.1/);
    expect(() => inceptionScore([[1.5, -0.5]], { splits: 1 })).toThrow(/row 0, class 1: expected a probability >= 0, got -0.5/);
    expect(() => inceptionScore([[NaN, 1]], { splits: 1 })).toThrow(/expected a finite number, got NaN/);
    expect(() => inceptionScore([[1, 0]], { splits: 2 })).toThrow(/splits: expected an integer in \[1, 1\] \(the number of rows\), got 2/);
    expect(() => inceptionScore([[1, 0]], { splits: 0 })).toThrow(/got 0/);
    expect(() =>
      inceptionScore(
        [
          [1, 0],
          [0, 1],
        ],
        { splits: 1.5 },
      ),
    ).toThrow(/got 1.5/);
    expect(() => inceptionScore([[1, 0], [1]], {})).toThrow(/row 1: expected 2 numbers, got 1/);
    // Within tolerance passes: float32 softmax rows are off by ~1e-7.
    expect(inceptionScore([[0.5, 0.5005]], { splits: 1 }).mean).toBeGreaterThan(0);
  });
});
