/** Mean and population standard deviation (numpy's default ddof = 0), two-pass for accuracy. */
export function meanAndStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) throw new Error('meanAndStd: expected at least one value, got none');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) * (values[i] - mean);
  return { mean, std: Math.sqrt(sq / n) };
}
