import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database';
import { badInput } from '../../src/errors/ganql-error';
import { createLogger } from '../../src/log/logger';
import { RunService } from '../../src/runs/run.service';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-runs-'));
let db: Database;
const logged: string[] = [];
let runs: RunService;

beforeAll(async () => {
  db = openDatabase(`file:${path.join(dir, 'runs.db')}`);
  await db.migrate();
  await db.prisma.model.create({
    data: { id: 'm@1', name: 'm', version: '1', architecture: 'dcgan', dataset: 'mnist', latentSize: 2, imageHeight: 1, imageWidth: 1, imageChannels: 1, path: 'm', manifest: '{}' },
  });
  runs = new RunService(db, 'wasm', createLogger('error', (l) => logged.push(l)));
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RunService.record', () => {
  it('writes RUNNING before the work and SUCCEEDED after, with result and duration', async () => {
    let seenDuring: string | undefined;
    const value = await runs.record({ kind: 'SAMPLE', parameters: { count: 2 } }, async (run) => {
      seenDuring = (await db.prisma.run.findUnique({ where: { id: run.runId } }))?.status;
      run.setModel('m@1');
      return { value: 42, result: { sampleIds: ['a', 'b'] } };
    });
    expect(value).toBe(42);
    expect(seenDuring).toBe('RUNNING');
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row).toMatchObject({ kind: 'SAMPLE', status: 'SUCCEEDED', modelId: 'm@1', backend: 'wasm', parameters: '{"count":2}', result: '{"sampleIds":["a","b"]}' });
    expect(row.durationMs).toBeGreaterThan(0);
    expect(row.finishedAt).toBeInstanceOf(Date);
  });

  it('records a user error with its code and message, and re-throws it', async () => {
    await expect(runs.record({ kind: 'SAMPLE', parameters: {} }, async () => Promise.reject(badInput('count: expected 1..2, got 3')))).rejects.toThrow('count: expected 1..2, got 3');
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row).toMatchObject({ status: 'FAILED', errorCode: 'BAD_USER_INPUT', errorMessage: 'count: expected 1..2, got 3' });
  });

  it('records an internal error as INTERNAL_SERVER_ERROR without its details, and logs them', async () => {
    const secret = new TypeError('connection string postgres://admin:hunter2@db');
    await expect(runs.record({ kind: 'SAMPLE', parameters: {} }, async () => Promise.reject(secret))).rejects.toBe(secret);
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row.status).toBe('FAILED');
    expect(row.errorCode).toBe('INTERNAL_SERVER_ERROR');
    expect(row.errorMessage).toBe(`Internal error; see the server log for run ${row.id}`);
    expect(logged.at(-1)).toContain('hunter2');
  });

  it('keeps the failure recorded when the model id does not exist', async () => {
    await expect(
      runs.record({ kind: 'SAMPLE', modelId: 'ghost@0', parameters: {} }, async (run) => {
        run.setModel('ghost@0');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const row = (await db.prisma.run.findFirst({ orderBy: { createdAt: 'desc' } }))!;
    expect(row).toMatchObject({ status: 'FAILED', modelId: null, errorCode: 'INTERNAL_SERVER_ERROR' });
  });

  it('closeInterrupted marks runs left RUNNING as INTERRUPTED', async () => {
    await db.prisma.run.create({ data: { id: 'left-running', kind: 'SAMPLE', status: 'RUNNING', parameters: '{}' } });
    expect(await runs.closeInterrupted('process died')).toBe(1);
    expect(await db.prisma.run.findUnique({ where: { id: 'left-running' } })).toMatchObject({ status: 'INTERRUPTED', errorMessage: 'process died' });
    expect(await runs.closeInterrupted('again')).toBe(0);
  });
});
