/** "1h02m05s", "1m05s" or "42s", rounded to the second; "?" before an estimate exists. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  // Round once, before splitting, so 359.6 s reads 6m00s, not 5m60s.
  const total = Math.max(0, Math.round(s));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${sec}s`;
  return m > 0 ? `${m}m${sec}s` : `${total}s`;
}

/** "[######..........]": `done` of `total` as a fixed-width text bar. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.min(width, Math.max(0, Math.round((done / total) * width))) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
