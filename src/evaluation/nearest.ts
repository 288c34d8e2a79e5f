import { rowSquaredNorms, toMatrix, type MatrixInput } from './matrix';
import { squaredDistanceBlock } from './squared-distances';

export interface NearestOptions {
  /** Queries compared per pass over the training set; 16 keeps a pass's distances (16 x N doubles) small. */
  batchSize?: number;
}

export interface NearestNeighbour {
  /** Row of the nearest training image (the lowest index on ties). */
  index: number;
  /** Euclidean pixel distance to it. */
  distance: number;
}

/**
 * For every query image (row), the nearest training image by pixel L2 distance: brute force in
 * float64 with the ||a||^2 - 2ab + ||b||^2 expansion. Pure JS rather than a tf.matMul: the usual
 * workload (a grid of samples against the 9,000 training digits, 64 x 9000 x 784 ~ 0.45 GFLOP)
 * takes well under a second, stays exact and backend-independent, and does not queue behind
 * generator inference on the shared backend; float32 matMul would also lose ~1e-4 of ||x||^2 ~ 784
 * to cancellation, enough to reorder near-duplicates.
 */
export function nearestNeighbours(queries: MatrixInput, training: MatrixInput, options: NearestOptions = {}): NearestNeighbour[] {
  const q = toMatrix(queries, 'nearestNeighbours: queries');
  const t = toMatrix(training, 'nearestNeighbours: training');
  if (q.cols !== t.cols) throw new Error(`nearestNeighbours: expected queries of ${t.cols} pixels like the training images, got ${q.cols}`);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`nearestNeighbours: batchSize: expected a positive integer, got ${batchSize}`);
  const qNorms = rowSquaredNorms(q);
  const tNorms = rowSquaredNorms(t);
  const block = new Float64Array(Math.min(batchSize, q.rows) * t.rows);
  const result: NearestNeighbour[] = [];
  for (let q0 = 0; q0 < q.rows; q0 += batchSize) {
    const q1 = Math.min(q.rows, q0 + batchSize);
    squaredDistanceBlock(q, qNorms, q0, q1, t, tNorms, block);
    for (let i = 0; i < q1 - q0; i++) {
      let best = 0;
      let bestDist = Infinity;
      const base = i * t.rows;
      for (let r = 0; r < t.rows; r++) {
        if (block[base + r] < bestDist) {
          bestDist = block[base + r];
          best = r;
        }
      }
      result.push({ index: best, distance: Math.sqrt(bestDist) });
    }
  }
  return result;
}
