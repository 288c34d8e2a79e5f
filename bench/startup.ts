/**
 * ganql started from TypeScript sources through tsx (the old `npm start`, now `npm run dev`) against
 * the compiled build (`npm start`): time from spawn to the first GET /healthz 200, resident memory
 * once ready, and wrk's throughput on `{ serverInfo { backend } }`, from one run.
 *
 *   npm run build && npx tsx bench/startup.ts [--rounds 3] [--wrk-seconds 10] [--connections 16]
 *       [--variants tsx,compiled,compiled-source-maps]
 *
 * Each round starts every variant once, in a rotating order, on a temporary SQLite file and an
 * ephemeral loopback port with the shipped models (the caller's GANQL_* settings apply), reads the CPU
 * time its process tree spent until ready, waits 2 s, reads the tree's RSS (tsx runs the server in a
 * child process), runs wrk for 2 s of warm-up and then --wrk-seconds, and stops it with SIGTERM.
 * Prints each measurement and the medians. The build itself is not timed (`npm start` skips it when
 * dist/ is current). Needs wrk on PATH; exits 1 when a server fails to start or wrk sees a non-2xx reply.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { numberArg, stringArg } from './lib/cli-args';
import { serverInfo } from './lib/server-info';

const ROOT = path.resolve(__dirname, '..');

const VARIANTS: Record<string, { command: string; args: string[] }> = {
  tsx: { command: path.join(ROOT, 'node_modules/.bin/tsx'), args: ['src/main.ts'] },
  compiled: { command: process.execPath, args: ['dist/main.js'] },
  'compiled-source-maps': { command: process.execPath, args: ['--enable-source-maps', 'dist/main.js'] },
};

interface Measurement {
  variant: string;
  runtime: string;
  startMs: number;
  /** CPU time (user + system) of the process tree until ready: less shaken by other load than the wall time. */
  startCpuS: number;
  rssMiB: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The pid and every descendant's, from /proc's parent links. */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we read.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** User + system CPU seconds of the live processes of the tree (all their threads). */
function treeCpuSeconds(root: number): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const pid of processTree(root)) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) ".
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}

function treeRssMiB(root: number): number {
  let kib = 0;
  for (const pid of processTree(root)) {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    kib += line === undefined ? 0 : Number(line.split(/\s+/)[1]);
  }
  return kib / 1024;
}

async function waitHealthy(base: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before /healthz answered 200`);
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no /healthz 200 within ${timeoutMs / 1000} s`);
}

async function serverRuntime(base: string): Promise<string> {
  return (await serverInfo<{ runtime: string }>(base, 'runtime')).runtime;
}

/** wrk's "Latency Distribution" value as milliseconds ("812.00us", "1.20ms", "2.01s"). */
function wrkMs(text: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (match === null) throw new Error(`wrk: expected a ${percentile}% latency line, got:\n${text}`);
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
}

function runWrk(url: string, script: string, seconds: number, connections: number): { requestsPerSecond: number; p50Ms: number; p99Ms: number } {
  const result = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  if (result.error) throw new Error(`wrk: ${result.error.message} (is wrk installed?)`);
  const text = result.stdout;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx !== null) throw new Error(`wrk: ${non2xx[1]} non-2xx replies:\n${text}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (rps === null) throw new Error(`wrk: expected Requests/sec, got:\n${text}\n${result.stderr}`);
  return { requestsPerSecond: Number(rps[1]), p50Ms: wrkMs(text, '50'), p99Ms: wrkMs(text, '99') };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function measure(variant: string, options: { wrkSeconds: number; connections: number; wrkScript: string }): Promise<Measurement> {
  const { command, args } = VARIANTS[variant];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-startup-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`,
      GANQL_TRAINING_DIR: path.join(dir, 'training'),
      GANQL_LOG_LEVEL: process.env.GANQL_LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Kept for a failure's message only: tfjs-node prints a line per kernel it registers.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitHealthy(base, child, 180_000).catch((error: unknown) => {
      throw new Error(`${variant}: ${error instanceof Error ? error.message : String(error)}\n${stderr}`);
    });
    const startMs = performance.now() - started;
    const startCpuS = treeCpuSeconds(child.pid ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssMiB = treeRssMiB(child.pid ?? 0);
    const runtime = await serverRuntime(base);
    runWrk(`${base}/graphql`, options.wrkScript, 2, options.connections);
    return { variant, runtime, startMs, startCpuS, rssMiB, ...runWrk(`${base}/graphql`, options.wrkScript, options.wrkSeconds, options.connections) };
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const rounds = numberArg('rounds', 3, 1, 50);
  const wrkSeconds = numberArg('wrk-seconds', 10, 1, 600);
  const connections = numberArg('connections', 16, 1, 1024);
  const variants = stringArg('variants', 'tsx,compiled,compiled-source-maps').split(',');
  for (const v of variants)
    if (!(v in VARIANTS)) throw new Error(`--variants: expected names from ${Object.keys(VARIANTS).join(', ')}, got ${JSON.stringify(v)}`);
  if (variants.some((v) => v.startsWith('compiled')) && !existsSync(path.join(ROOT, 'dist/main.js'))) {
    throw new Error('dist/main.js is missing: run `npm run build` first');
  }
  const wrkDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-wrk-'));
  const wrkScript = path.join(wrkDir, 'server-info.lua');
  writeFileSync(
    wrkScript,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${JSON.stringify({ query: '{ serverInfo { backend } }' })}'\n`,
  );
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`startup bench: ${rounds} round(s), wrk ${wrkSeconds} s x ${connections} connections; load average ${load()}`);
  const results: Measurement[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(i + round) % variants.length];
        const m = await measure(variant, { wrkSeconds, connections, wrkScript });
        results.push(m);
        console.log(
          `round ${round + 1} ${variant.padEnd(21)} runtime ${m.runtime.padEnd(8)} start ${m.startMs.toFixed(0).padStart(6)} ms (CPU ${m.startCpuS.toFixed(1)} s)  RSS ${m.rssMiB.toFixed(0).padStart(4)} MiB  ` +
            `${m.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms`,
        );
      }
    }
  } finally {
    rmSync(wrkDir, { recursive: true, force: true });
  }
  console.log(`\nmedians (load average after: ${load()})`);
  console.log('| variant | runtime | start to /healthz 200 | CPU to start | RSS after start | serverInfo req/s | p50 | p99 |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const variant of variants) {
    const mine = results.filter((m) => m.variant === variant);
    const med = (pick: (m: Measurement) => number) => median(mine.map(pick));
    console.log(
      `| ${variant} | ${mine[0].runtime} | ${(med((m) => m.startMs) / 1000).toFixed(2)} s | ${med((m) => m.startCpuS).toFixed(1)} s | ${med((m) => m.rssMiB).toFixed(0)} MiB | ${med((m) => m.requestsPerSecond).toFixed(0)} | ${med((m) => m.p50Ms).toFixed(2)} ms | ${med((m) => m.p99Ms).toFixed(2)} ms |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
