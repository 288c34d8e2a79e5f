import * as fs from 'node:fs/promises';

/** Writes `file` under a temporary name and renames it: a reader (or a crash) never sees it half-written. */
export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}
