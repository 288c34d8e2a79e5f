import path from 'node:path';
import { RUNTIME } from './runtime';

/** How to start a ganql worker thread: `new Worker(script, { workerData: { ...data, entry }, execArgv })`. */
export interface WorkerLaunch {
  /** The file the thread runs. */
  script: string;
  /** The worker module itself, for the bootstrap: pass it in the workerData. */
  entry: string;
  /** The thread's Node flags; undefined keeps Node's default (the parent's). */
  execArgv: string[] | undefined;
}

/**
 * How to start the worker module `entryWithoutExtension` (its path without extension, beside the
 * calling module). Compiled: the .js entry itself, with the parent's Node flags (--enable-source-maps,
 * memory limits). From sources: the CommonJS bootstrap, which registers tsx and then requires the .ts
 * entry, with no flags, since the parent's loader flags (tsx's, vitest's) do not belong in a worker.
 */
export function workerLaunch(entryWithoutExtension: string): WorkerLaunch {
  if (RUNTIME === 'compiled') {
    const entry = `${entryWithoutExtension}.js`;
    return { script: entry, entry, execArgv: undefined };
  }
  return { script: path.join(__dirname, 'bootstrap.cjs'), entry: `${entryWithoutExtension}.ts`, execArgv: [] };
}
