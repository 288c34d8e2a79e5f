import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { nearestNeighbours } from '../../src/evaluation/nearest';

describe('nearestNeighbours', () => {
  it('finds the nearest training row by L2 on a tiny set', () => {
    const training = [
      [0, 0],
      [3, 4],
      [1, 1],
    ];
    // (0.9, 1.2) -> (1, 1): sqrt(0.01 + 0.04); (3, 3.9) -> (3, 4): 0.1; (-5, -5) -> (0, 0): sqrt(50).
    const result = nearestNeighbours(
      [
        [0.9, 1.2],
        [3, 3.9],
        [-5, -5],
      ],
      training,
    );
    expect(result.map((r) => r.index)).toEqual([2, 1, 0]);
    expect(result[0].distance).toBeCloseTo(Math.sqrt(0.05), 12);
    expect(result[1].distance).toBeCloseTo(0.1, 12);
    expect(result[2].distance).toBeCloseTo(Math.sqrt(50), 12);
  });

  it('gives distance 0 for an exact copy and the lowest index on ties', () => {
    const result = nearestNeighbours(
      [
        [1, 1],
        [0, 0],
      ],
      [
        [2, 0],
        [0, 2],
        [1, 1],
        [0, 0],
      ],
    );
    expect(result[0]).toEqual({ index: 2, distance: 0 });
    // (0,0) is a copy of row 3; (1,1) query -> row 2 exact; check a tie: (1, 1) is equally far from (2, 0) and (0, 2).
    expect(result[1]).toEqual({ index: 3, distance: 0 });
    expect(
      nearestNeighbours(
        [[1, 1]],
        [
          [2, 0],
          [0, 2],
        ],
      )[0],
    ).toEqual({ index: 0, distance: Math.SQRT2 });
  });

  it('agrees with a direct search on float32 images for any batch size', () => {
    const p = createPrng(11);
    const d = 49;
    const train = new Float32Array(150 * d).map(() => p.next() * 2 - 1);
    const queries = new Float32Array(13 * d).map(() => p.next() * 2 - 1);
    const direct = Array.from({ length: 13 }, (_, q) => {
      let best = -1;
      let bestD = Infinity;
      for (let t = 0; t < 150; t++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += (queries[q * d + k] - train[t * d + k]) ** 2;
        if (s < bestD) {
          bestD = s;
          best = t;
        }
      }
      return { index: best, distance: Math.sqrt(bestD) };
    });
    for (const batchSize of [1, 4, 16, 100]) {
      const got = nearestNeighbours({ data: queries, rows: 13, cols: d }, { data: train, rows: 150, cols: d }, { batchSize });
      expect(got.map((g) => g.index)).toEqual(direct.map((g) => g.index));
      got.forEach((g, i) => expect(g.distance).toBeCloseTo(direct[i].distance, 10));
    }
  });

  it('rejects queries of another size', () => {
    expect(() => nearestNeighbours([[1, 2, 3]], [[1, 2]])).toThrow('expected queries of 2 pixels like the training images, got 3');
  });
});
