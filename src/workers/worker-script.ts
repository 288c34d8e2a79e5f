import path from 'node:path';

/**
 * What a worker thread runs for `entry` (a worker module's path without its extension, beside the
 * calling module): from TypeScript sources (tsx, vitest) the CommonJS bootstrap, which registers tsx
 * and then requires the .ts entry; from compiled JavaScript the entry itself. Pass `entry` to the
 * worker in its workerData.
 */
export function workerScript(entryWithoutExtension: string): { script: string; entry: string } {
  // This module's own extension says whether ganql runs from sources or compiled.
  const entry = `${entryWithoutExtension}${path.extname(__filename)}`;
  return { script: entry.endsWith('.ts') ? path.join(__dirname, 'bootstrap.cjs') : entry, entry };
}
