import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-process-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** `npm start`'s entry as a real process on an ephemeral port; resolves with its GraphQL URL once ready. */
function startProcess(): Promise<{ child: ChildProcessWithoutNullStreams; url: string; log: () => string }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`, GANQL_BACKEND: 'wasm', GANQL_LOG_LEVEL: 'info' },
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "ganql ready" within 60 s:\n${output}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.split('\n').find((line) => line.includes('"ganql ready"'));
      if (ready) {
        clearTimeout(timer);
        // Logged as http://localhost:<port>/graphql for people; the socket is on 127.0.0.1.
        const url = (JSON.parse(ready) as { graphql: string }).graphql.replace('localhost', '127.0.0.1');
        resolve({ child, url, log: () => output });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
}

/** An admin key made by the real `npm run keys` entry on the test's database, as an operator would. */
function createKey(): string {
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', 'src/auth/keys.cli.ts', 'create', '--name', 'process-test', '--scopes', 'admin'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `file:${path.join(dir, 'ganql.db')}` },
    encoding: 'utf8',
  });
  return out.split('\n')[0];
}
let key = '';

async function gql<T>(url: string, query: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const exited = (child: ChildProcessWithoutNullStreams) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

describe('the ganql process', () => {
  it('after kill -9 during an evaluation, the next start records that run INTERRUPTED; SIGTERM then exits cleanly', async () => {
    key = createKey();
    expect(key).toMatch(/^gq_[0-9a-f]{12}_/);
    const first = await startProcess();
    const started = await gql<{ evaluate: { id: string; status: string } }>(first.url, 'mutation { evaluate(metrics: [INCEPTION_SCORE], samples: 50000) { id status } }');
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
