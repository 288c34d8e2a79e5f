/**
 * ganql's entry as a real child process on an ephemeral loopback port: src/main.ts through tsx (what
 * `npm run dev` runs) or the compiled dist/main.js (what `npm start` runs, after `npm run build`).
 * What the process tests (test/.../*.process.test.ts files) and the kill -9 bench (bench/kill-test.ts) start.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface GanqlProcess {
  child: ChildProcessWithoutNullStreams;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** Everything it logged so far (JSON lines on stderr). */
  log(): string;
}

/** The node arguments of each way to run ganql. */
const ENTRY_ARGS = {
  sources: ['--require', 'tsx/cjs', 'src/main.ts'],
  compiled: ['dist/main.js'],
} as const;

/**
 * Starts a ganql process with `env` on top of this one's; resolves once it logs "ganql ready" (errors
 * carry `name`). `compiled` needs a current dist/ (scripts/build.mjs).
 */
export function startGanql(
  env: Record<string, string>,
  timeoutMs = 120_000,
  name = 'ganql',
  entry: keyof typeof ENTRY_ARGS = 'sources',
): Promise<GanqlProcess> {
  const child = spawn(process.execPath, [...ENTRY_ARGS[entry]], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', GANQL_BACKEND: 'wasm', GANQL_LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no "ganql ready" within ${timeoutMs / 1000} s:\n${output.slice(-4000)}`)), timeoutMs);
    const onExit = (code: number | null) => reject(new Error(`${name} exited with ${code} before ready:\n${output.slice(-4000)}`));
    child.on('exit', onExit);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.split('\n').find((line) => line.includes('"ganql ready"'));
      if (ready) {
        clearTimeout(timer);
        child.off('exit', onExit);
        // Logged as http://localhost:<port>/graphql for people; the socket is on 127.0.0.1.
        const url = (JSON.parse(ready) as { graphql: string }).graphql.replace('localhost', '127.0.0.1');
        resolve({ child, url, log: () => output });
      }
    });
    // Drained so a chatty child never blocks on a full pipe.
    child.stdout.on('data', () => undefined);
  });
}

export function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** kill -9, and waits until it is gone. */
export async function killHard(p: GanqlProcess): Promise<void> {
  const gone = exited(p.child);
  p.child.kill('SIGKILL');
  const { signal } = await gone;
  if (signal !== 'SIGKILL') throw new Error(`expected the process to die of SIGKILL, got ${String(signal)}`);
}

/** SIGTERM; resolves with how it ended ("exit code 0" when clean). */
export async function stopGently(p: GanqlProcess): Promise<string> {
  const gone = exited(p.child);
  p.child.kill('SIGTERM');
  const { code, signal } = await gone;
  return code !== null ? `exit code ${code}` : `signal ${String(signal)}`;
}

/** An admin key without a rate limit, made by the real `npm run keys` entry on `databaseUrl`. */
export function createAdminKey(databaseUrl: string, name: string): string {
  const out = execFileSync(
    process.execPath,
    ['--require', 'tsx/cjs', 'src/cli/keys.cli.ts', 'create', '--name', name, '--scopes', 'admin', '--rate-limit', '0'],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
    },
  );
  return out.split('\n')[0].trim();
}

/** POSTs a GraphQL request with `key` ('' for none); returns the parsed body. */
export async function gqlRequest<T>(
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // No key: an anonymous request (the server grants GANQL_ANONYMOUS_SCOPES).
  if (key !== '') headers.authorization = `Bearer ${key}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** As gqlRequest, throwing unless the reply has data and no errors. */
export async function gqlData<T>(url: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const body = await gqlRequest<T>(url, key, query, variables);
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 80)}: expected data, got ${JSON.stringify(body.errors)}`);
  return body.data;
}
