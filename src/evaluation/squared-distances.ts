import { blockDots, type Matrix } from './matrix';

/**
 * Squared L2 distances from query rows [q0, q1) to every reference row, as
 * ||q||^2 - 2 q.r + ||r||^2 in float64 (clamped at 0, which rounding can undershoot).
 * `out` receives (q1 - q0) x refs.rows values, row-major.
 * In float64 the expansion loses ~1e-16 * ||x||^2, far below any pixel or feature difference.
 */
export function squaredDistanceBlock(
  queries: Matrix,
  queryNorms: Float64Array,
  q0: number,
  q1: number,
  refs: Matrix,
  refNorms: Float64Array,
  out: Float64Array,
): void {
  const d = queries.cols;
  if (refs.cols !== d) throw new Error(`squaredDistanceBlock: expected reference rows of ${d} values, got ${refs.cols}`);
  const nRefs = refs.rows;
  blockDots(queries, q0, q1, refs, 0, nRefs, out);
  for (let q = q0; q < q1; q++) {
    const qNorm = queryNorms[q];
    const base = (q - q0) * nRefs;
    for (let r = 0; r < nRefs; r++) {
      const dist = qNorm - 2 * out[base + r] + refNorms[r];
      out[base + r] = dist > 0 ? dist : 0;
    }
  }
}
