import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { createLogger } from '../../src/log/logger';
import { RunStore } from '../../src/runs/run.store';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-run-store-'));
let db: Database;
let store: RunStore;

beforeAll(async () => {
  db = openDatabase(`file:${path.join(dir, 'runs.db')}`);
  await db.migrate();
  store = new RunStore(
    db,
    'wasm',
    createLogger('error', () => undefined),
    'replica-1',
  );
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RunStore', () => {
  it('writes a run RUNNING, owned by its replica, and reads it back; find answers undefined for an unknown id, get NOT_FOUND', async () => {
    const id = await store.insertRunning({ kind: 'EVALUATE', parameters: { samples: 10 } }, 0);
    expect(await store.find(id)).toMatchObject({ id, kind: 'EVALUATE', status: 'RUNNING', progress: 0, parameters: '{"samples":10}', backend: 'wasm' });
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id } })).owner).toBe('replica-1');
    expect(await store.find('no-such-run')).toBeUndefined();
    await expect(store.get('no-such-run')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('parametersOf: the recorded parameters of each known run, by id, once per id', async () => {
    const first = await store.insertRunning({ kind: 'SAMPLE', parameters: { count: 1 } }, null);
    const second = await store.insertRunning({ kind: 'SAMPLE', parameters: { removeFilters: { layer: 'd1', units: [3] } } }, null);
    const found = await store.parametersOf([second, first, second, 'unknown']);
    expect([...found.entries()].sort()).toEqual(
      [
        [first, '{"count":1}'],
        [second, '{"removeFilters":{"layer":"d1","units":[3]}}'],
      ].sort(),
    );
  });

  it('records a failure with the error code; a failure naming an unknown model keeps it without the model', async () => {
    const id = await store.insertRunning({ kind: 'SAMPLE', parameters: {} }, null);
    await store.failed(id, 'SAMPLE', new Error('boom'), 'ghost@0', 5);
    expect(await store.get(id)).toMatchObject({
      status: 'FAILED',
      modelId: null,
      errorCode: 'INTERNAL_SERVER_ERROR',
      errorMessage: `Internal error; see the server log for run ${id}`,
      durationMs: 5,
    });
  });
});
