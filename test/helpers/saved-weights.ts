import { loadLayersModel } from '../../src/models/io';

/** Largest absolute difference between two models' weights, in order (0 = the same weights). */
export function maxWeightDiff(a: number[][], b: number[][]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  a.forEach((w, i) => w.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

/** Every weight of the model saved in `dir`, in order, as plain numbers. */
export async function savedWeights(dir: string): Promise<number[][]> {
  const model = await loadLayersModel(dir);
  const values = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return values;
}
