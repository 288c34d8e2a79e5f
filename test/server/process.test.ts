import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdminKey, exited, gqlData, startGanql, type GanqlProcess } from '../helpers/ganql-process';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-process-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const DATABASE_URL = `file:${path.join(dir, 'ganql.db')}`;
const startProcess = async (): Promise<GanqlProcess> => {
  const p = await startGanql({ DATABASE_URL }, 60_000);
  children.push(p.child);
  return p;
};
let key = '';
const gql = <T>(url: string, query: string): Promise<T> => gqlData<T>(url, key, query);

describe('the ganql process', () => {
  it('after kill -9 during an evaluation, the next start records that run INTERRUPTED; SIGTERM then exits cleanly', async () => {
    key = createAdminKey(DATABASE_URL, 'process-test');
    expect(key).toMatch(/^gq_[0-9a-f]{12}_/);
    const first = await startProcess();
    const started = await gql<{ evaluate: { id: string; status: string } }>(
      first.url,
      'mutation { evaluate(metrics: [INCEPTION_SCORE], samples: 50000) { id status } }',
    );
    expect(started.evaluate.status).toBe('RUNNING');
    const made = await gql<{ samples: { id: string }[] }>(first.url, '{ samples(count: 2, seed: 5) { id } }');
    const killed = exited(first.child);
    first.child.kill('SIGKILL');
    expect((await killed).signal).toBe('SIGKILL');

    const second = await startProcess();
    expect(second.log()).toContain('closed runs left RUNNING by a previous process');
    const after = await gql<{ run: { status: string; errorMessage: string }; runs: { totalCount: number } }>(
      second.url,
      `{ run(id: "${started.evaluate.id}") { status errorMessage } runs(first: 1, filter: { status: RUNNING }) { totalCount } }`,
    );
    expect(after.run).toEqual({ status: 'INTERRUPTED', errorMessage: 'the process stopped while this run was in progress' });
    expect(after.runs.totalCount).toBe(0);
    // Work finished before the kill is all there.
    const sample = await gql<{ sample: { id: string } }>(second.url, `{ sample(id: "${made.samples[1].id}") { id } }`);
    expect(sample.sample.id).toBe(made.samples[1].id);

    const stopped = exited(second.child);
    const t0 = performance.now();
    second.child.kill('SIGTERM');
    expect(await stopped).toEqual({ code: 0, signal: null });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(second.log()).toContain('"shutting down"');
  });
});
