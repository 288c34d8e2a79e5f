import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, startGanql, stopGently, type GanqlProcess } from '../helpers/ganql-process';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-signal-'));
let server: GanqlProcess | undefined;
afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await exited(server.child);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM outside tests', () => {
  // Apollo Server installs its own SIGTERM handler unless NODE_ENV is "test" (as under vitest): it
  // stopped Apollo alone and re-raised the signal, so `npm start` died of SIGTERM mid-shutdown.
  it("runs ganql's whole shutdown and exits 0 with NODE_ENV=production", async () => {
    server = await startGanql({ NODE_ENV: 'production', DATABASE_URL: `file:${path.join(dir, 'ganql.db')}` });
    expect(await stopGently(server)).toBe('exit code 0');
    expect(server.log()).toContain('"shutting down"');
  });
});
