import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME } from '../../src/workers/runtime';
import { workerLaunch } from '../../src/workers/worker-script';

describe('workerLaunch from the TypeScript sources', () => {
  it("knows it runs from sources and starts the tsx bootstrap with the .ts entry and none of the parent's flags", () => {
    expect(RUNTIME).toBe('sources');
    const entry = path.resolve(__dirname, '../../src/evaluation/worker/metrics.worker');
    const launch = workerLaunch(entry);
    expect(launch).toEqual({
      script: path.resolve(__dirname, '../../src/workers/bootstrap.cjs'),
      entry: `${entry}.ts`,
      execArgv: [],
    });
    expect(existsSync(launch.script)).toBe(true);
    expect(existsSync(launch.entry)).toBe(true);
  });
});
