/**
 * The serving targets of issue 19 from one run: the real server as a user starts it (`npm start` in a
 * child process, a temporary SQLite DATABASE_URL, default settings) and a bare Apollo Server 5 +
 * Express 5 peer (same versions as ganql's, one trivial resolver, in this process), both driven by wrk.
 *
 *   npx tsx bench/serving.ts [--seconds 15] [--connections 256] [--connections-64 256] [--warmup-seconds 2] [--raw-seconds 3]
 *                            [--phases trivial,samples1,samples64] [--cpu-prof DIR]
 *
 * Phases (each: a warm-up, then --seconds of wrk with --connections):
 *   trivial    `{ __typename }` on the peer and on ganql;
 *   samples1   `samples(count: 1) { id image { dataUrl } }` on ganql, while a low-rate prober (4
 *              clients, each at most every 100 ms, in a worker thread) times GET /healthz;
 *   samples64  `samples(count: 64)` with images on ganql, images/s against the raw forward throughput
 *              of the default model at batch 64 on as many inference workers as the server runs.
 * Then the server's RSS before and after, and, from the SQLite file once the server has stopped, the
 * SAMPLE runs and samples it holds against the requests wrk saw answered 200 (requests cut off when
 * wrk stops still complete and are recorded, unread, so more runs than answers is expected; fewer
 * would be an answer without its run). After each wrk run the bench waits for the server's inference
 * queue to empty, so cut-off requests do not spill into the next measurement. Prints each ratio with PASS or MISS (a MISS
 * does not fail the process) and the load average before and after; under each measurement, how busy the CPUs were and
 * who used them (the server's event loop, its other threads, the rest: bench/lib/cpu-use.ts).
 * --cpu-prof DIR: `npm start`'s compiled entry runs under `node --cpu-prof` (Node refuses it in NODE_OPTIONS)
 * and writes its profile to DIR when it stops; summarise it with `npx tsx bench/cpu-profile-summary.ts DIR`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { openDatabase } from '../src/db/database';
import { planExecutor } from '../src/inference/choose-executor';
import { WorkerExecutor } from '../src/inference/worker-executor';
import { loadServedGenerator } from '../src/models/served-generator';
import { initBackend } from '../src/backend/backend';
import { ONNX_ENGINE, type OnnxServing } from '../src/inference/onnx-sessions';
import { loadOnnxRuntime } from '../src/onnx/onnx-runtime';
import { loadConfig } from '../src/config/config';
import { numberArg, stringArg } from './lib/cli-args';
import { cpuSnapshot, cpuUse, describeCpuUse, type CpuUse } from './lib/cpu-use';
import { checkInvariants } from './lib/db-invariants';
import { timeExecutor } from './lib/forward-timing';
import { errorCount, quantile, runHttpWorker, type HttpLoadResult } from './lib/http-load';
import { defaultModelFolder, resolveBenchModel } from './lib/model-dir';
import { serverInfo } from './lib/server-info';

const ROOT = path.resolve(__dirname, '..');
const TRIVIAL = JSON.stringify({ query: '{ __typename }' });
const SAMPLES_1 = JSON.stringify({ query: '{ samples(count: 1) { id image { dataUrl } } }' });
const SAMPLES_64 = JSON.stringify({ query: '{ samples(count: 64) { id image { dataUrl } } }' });
const TARGETS = { trivial: 0.8, samples1: 0.5, samples64: 0.8, healthP99Ms: 20 };

interface WrkResult {
  /** Answered 200 with a GraphQL body without "errors". */
  ok: number;
  bad: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  socketErrors: number;
  perSecond: number;
}

/** A wrk script POSTing `body` as JSON, counting good and bad answers, printing one JSON line at the end. */
function wrkScript(body: string): string {
  return `
wrk.method = "POST"
wrk.body = [==[${body}]==]
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"ok":%d,"bad":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"socketErrors":%d}\\n',
    o, b, summary.duration, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout))
end
`;
}

function runWrk(url: string, body: string, connections: number, seconds: number, tmp: string): Promise<WrkResult> {
  const script = path.join(tmp, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(script, wrkScript(body));
  const args = ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '60s', '-s', script, url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(' ')}: expected a WRKJSON line, got exit ${code}:\n${out}`));
      const r = JSON.parse(line.slice(8)) as { ok: number; bad: number; durationUs: number; p50Us: number; p99Us: number; socketErrors: number };
      const s = r.durationUs / 1e6;
      resolve({ ok: r.ok, bad: r.bad, seconds: s, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, socketErrors: r.socketErrors, perSecond: r.ok / s });
    });
  });
}

/** A bare Apollo Server 5 + Express 5 with one trivial query, on 127.0.0.1 and an ephemeral port. */
async function startPeer(): Promise<{ url: string; stop(): Promise<void> }> {
  const app = express();
  const server = http.createServer(app);
  const apollo = new ApolloServer({
    typeDefs: 'type Query { hello: String }',
    resolvers: { Query: { hello: () => 'world' } },
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: server })],
  });
  await apollo.start();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async stop() {
      await apollo.stop(); // closes the HTTP server too
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Where the CPUs went during the measurement just printed: a ratio below target on a machine with no idle CPU is a CPU budget, not a wait. */
function cpuLine(use: CpuUse, names: { main: string; others: string; rest: string }): void {
  console.log(`  ${describeCpuUse(use, names)}`);
}

/** Child processes of `pid`, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The server under npm: `pid` or its deepest descendant running dist/main.js (npm start) or src/main.ts (--cpu-prof). */
function serverProcess(pid: number): number {
  let server: number | undefined;
  for (let level = [pid]; level.length > 0;) {
    for (const p of level) {
      try {
        const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        if (cmdline.includes('dist/main.js') || cmdline.includes('src/main.ts')) server = p;
      } catch {
        // gone meanwhile
      }
    }
    level = level.flatMap(childrenOf);
  }
  if (server === undefined) throw new Error(`npm start (pid ${pid}): expected a process running dist/main.js under it, got none`);
  return server;
}

/** Waits until the server's inference queue is empty: requests wrk cut off still run, and must not spill into the next measurement. */
async function idle(base: string): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    const { pool } = await serverInfo<{ pool: { queued: number } }>(base, 'pool { queued }');
    quiet = pool.queued === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`/proc/${pid}/status: expected a VmRSS line, got none`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

interface GanqlChild {
  base: string;
  /** The server process (under npm and tsx). */
  pid: number;
  databaseFile: string;
  stop(): Promise<void>;
}

/** `npm start` (or its entry under --cpu-prof) with a temporary SQLite database on a free port; resolves once GET /healthz answers 200. */
async function startGanqlProcess(tmp: string, cpuProfDir: string): Promise<GanqlChild> {
  const port = await freePort();
  const databaseFile = path.join(tmp, 'ganql.db');
  const logFile = openSync(path.join(tmp, 'ganql.log'), 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${databaseFile}`, HOST: '127.0.0.1', PORT: String(port) };
  // Node refuses --cpu-prof in NODE_OPTIONS: profiled, the compiled entry npm start runs is built and started directly with it.
  if (cpuProfDir) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const [command, args] = cpuProfDir ? [process.execPath, ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, 'dist/main.js']] : ['npm', ['start']];
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', logFile, logFile] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${readFileSync(path.join(tmp, 'ganql.log'), 'utf8').slice(-4000)}`);
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (performance.now() > deadline) throw new Error(`npm start: expected GET /healthz 200 within 180 s, got none`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = serverProcess(child.pid!);
  return {
    base,
    pid,
    databaseFile,
    async stop() {
      // SIGTERM to the server, as a supervisor sends it; npm and tsx end with it.
      if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGTERM');
      await exited;
      // npm may return before the server has written its profile and closed the database.
      while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

/** SAMPLE runs and samples in the database, and any invariant it breaks. */
async function recorded(databaseFile: string) {
  const db = openDatabase(`file:${databaseFile}`);
  try {
    const rows = await db.prisma.$queryRawUnsafe<{ n: bigint | number }[]>(
      `SELECT COUNT(*) AS n FROM "Run" WHERE "kind" = 'SAMPLE' AND "status" = 'SUCCEEDED'`,
    );
    const report = await checkInvariants(db.prisma);
    return { sampleRuns: Number(rows[0].n), samples: report.counts.samples, violations: Object.keys(report.violations) };
  } finally {
    await db.prisma.$disconnect();
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const seconds = numberArg('seconds', 15, 1, 600);
  const connections = numberArg('connections', 256, 1, 10_000);
  // 256 x 64 images in flight take longer than a short --seconds on a slow machine: fewer connections there.
  const connections64 = numberArg('connections-64', connections, 1, 10_000);
  const warmup = numberArg('warmup-seconds', 2, 1, 60);
  const rawSeconds = numberArg('raw-seconds', 3, 0.5, 60);
  const phases = new Set(stringArg('phases', 'trivial,samples1,samples64').split(','));
  for (const p of phases)
    if (!['trivial', 'samples1', 'samples64'].includes(p)) throw new Error(`--phases: expected trivial, samples1 and/or samples64, got ${p}`);
  const cpuProfDir = stringArg('cpu-prof', '') && path.resolve(stringArg('cpu-prof', ''));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-serving-'));
  // Removed however the bench ends (it exits through process.exit).
  process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const loadBefore = load();
  console.log(`${os.cpus().length} CPUs shared by the servers, wrk and anything else running; load average before ${loadBefore}`);
  console.log(`wrk -t 2 -c ${connections}, ${warmup} s warm-up + ${seconds} s per measurement\n`);

  const results: [string, string, boolean][] = [];
  let answered = { runs: 0, samples: 0 };
  const count = (r: WrkResult, perRequest: number) => {
    answered = { runs: answered.runs + r.ok, samples: answered.samples + r.ok * perRequest };
  };
  const line = (label: string, r: WrkResult, unit = 'req/s') =>
    console.log(
      `${label.padEnd(36)}${r.perSecond.toFixed(0).padStart(7)} ${unit}  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  ${r.ok} ok, ${r.bad} bad, ${r.socketErrors} socket errors`,
    );

  let peerTrivial: WrkResult | undefined;
  if (phases.has('trivial') || phases.has('samples1')) {
    const peer = await startPeer();
    try {
      await runWrk(peer.url, TRIVIAL, connections, warmup, tmp);
      const before = cpuSnapshot(process.pid);
      peerTrivial = await runWrk(peer.url, TRIVIAL, connections, seconds, tmp);
      line('bare Apollo 5 + Express 5, trivial', peerTrivial);
      cpuLine(cpuUse(before, cpuSnapshot(process.pid)), { main: 'its thread', others: "this bench's other threads", rest: 'wrk and the rest' });
    } finally {
      await peer.stop();
    }
  }

  const ganql = await startGanqlProcess(tmp, cpuProfDir);
  const url = `${ganql.base}/graphql`;
  const ganqlCpu: Record<string, CpuUse> = {};
  const wrkThenIdle = async (body: string, secs: number) => {
    const before = cpuSnapshot(ganql.pid);
    const r = await runWrk(url, body, body === SAMPLES_64 ? connections64 : connections, secs, tmp);
    ganqlCpu[body] = cpuUse(before, cpuSnapshot(ganql.pid));
    await idle(ganql.base);
    return r;
  };
  const ganqlCpuLine = (body: string) =>
    cpuLine(ganqlCpu[body], { main: 'its event loop', others: 'its other threads (inference workers, GC)', rest: 'wrk and the rest' });
  const engine = await serverEngine(ganql.base);
  const rssBefore = rssOf(ganql.pid);
  let rssAfter: number;
  let health: HttpLoadResult | undefined;
  try {
    if (phases.has('trivial')) {
      await wrkThenIdle(TRIVIAL, warmup);
      const r = await wrkThenIdle(TRIVIAL, seconds);
      line('ganql, trivial', r);
      ganqlCpuLine(TRIVIAL);
      const ratio = r.perSecond / peerTrivial!.perSecond;
      results.push([`trivial query >= ${TARGETS.trivial}x bare Apollo`, `${ratio.toFixed(2)}x`, ratio >= TARGETS.trivial]);
    }
    if (phases.has('samples1')) {
      count(await wrkThenIdle(SAMPLES_1, warmup), 1);
      // From 1 s in (the queue is full by then) to 0.5 s before the load ends.
      const probe = runHttpWorker({
        url: `${ganql.base}/healthz`,
        graphql: false,
        clients: 4,
        seconds: Math.max(0.5, seconds - 1.5),
        delayMs: 1000,
        intervalMs: 100,
      });
      const r = await wrkThenIdle(SAMPLES_1, seconds);
      health = await probe;
      count(r, 1);
      line('ganql, samples(count: 1) with image', r);
      ganqlCpuLine(SAMPLES_1);
      if (peerTrivial) {
        const ratio = r.perSecond / peerTrivial.perSecond;
        results.push([`samples(count: 1) >= ${TARGETS.samples1}x bare Apollo trivial`, `${ratio.toFixed(2)}x`, ratio >= TARGETS.samples1]);
      }
      const p99 = quantile(health.latenciesMs, 0.99);
      console.log(
        `${'  GET /healthz meanwhile'.padEnd(36)}${String(health.latenciesMs.length).padStart(7)} probes  p50 ${quantile(health.latenciesMs, 0.5).toFixed(1)} ms  p99 ${p99.toFixed(1)} ms  ${errorCount(health)} errors`,
      );
      results.push([
        `/healthz p99 < ${TARGETS.healthP99Ms} ms under samples(count: 1)`,
        `${p99.toFixed(1)} ms`,
        p99 < TARGETS.healthP99Ms && errorCount(health) === 0,
      ]);
    }
    if (phases.has('samples64')) {
      count(await wrkThenIdle(SAMPLES_64, warmup), 64);
      const r = await wrkThenIdle(SAMPLES_64, seconds);
      count(r, 64);
      line('ganql, samples(count: 64) with images', { ...r, perSecond: r.perSecond * 64 }, 'img/s');
      ganqlCpuLine(SAMPLES_64);
      rssAfter = rssOf(ganql.pid);
      await ganql.stop(); // the raw measurement gets the cores the server had
      const info = serverWorkers();
      const { samplesPerSecond: raw, cpu: rawCpu } = await rawForward(info, rawSeconds, engine);
      console.log(`${`raw forward b=64, ${info} workers, ${engine}`.padEnd(36)}${raw.toFixed(0).padStart(7)} img/s`);
      cpuLine(rawCpu, { main: "this bench's event loop", others: 'its inference workers', rest: 'the rest' });
      const ratio = (r.perSecond * 64) / raw;
      results.push([`samples(count: 64) >= ${TARGETS.samples64}x raw forward`, `${ratio.toFixed(2)}x`, ratio >= TARGETS.samples64]);
    } else {
      rssAfter = rssOf(ganql.pid);
    }
  } finally {
    await ganql.stop();
  }

  console.log(`\nserver RSS ${mib(rssBefore)} -> ${mib(rssAfter)} (${(((rssAfter - rssBefore) / rssBefore) * 100).toFixed(1)}%)`);
  const db = await recorded(ganql.databaseFile);
  const runsOk = db.sampleRuns >= answered.runs && db.violations.length === 0;
  console.log(
    `database: ${db.sampleRuns} SAMPLE runs, ${db.samples} samples; wrk saw ${answered.runs} sample requests (${answered.samples} samples) answered 200` +
      `; ${db.sampleRuns - answered.runs} more runs than answers: requests wrk cut off at the end of a measurement, completed unread` +
      (db.violations.length ? `; violations: ${db.violations.join(', ')}` : ''),
  );
  results.push(['every answered request has its run and samples', `${db.sampleRuns}/${answered.runs}`, runsOk && db.samples >= answered.samples]);

  const width = Math.max(...results.map(([t]) => t.length)) + 2;
  console.log(`\n${'target'.padEnd(width)}${'measured'.padStart(10)}`);
  for (const [target, measured, ok] of results) console.log(`${target.padEnd(width)}${measured.padStart(10)}  ${verdict(ok)}`);
  console.log(`\nload average before ${loadBefore}, after ${load()}`);
}

/** The inference workers the server runs at default settings (its plan for the wasm backend). */
function serverWorkers(): number {
  const env = process.env.GANQL_INFERENCE_WORKERS;
  const plan = planExecutor('wasm', env ? Number(env) : undefined);
  return plan.kind === 'workers' ? plan.workers : 1;
}

/** The engine the server computes generator batches on (serverInfo.backend): onnxruntime, or a tfjs backend. */
async function serverEngine(base: string): Promise<string> {
  return (await serverInfo<{ backend: string }>(base, 'backend')).backend;
}

/**
 * Raw generator throughput at batch 64 on `workers` inference worker threads (the server's executor),
 * on the server's engine: ONNX Runtime with the server's threads per worker when it serves on it.
 */
async function rawForward(workers: number, seconds: number, engine: string): Promise<{ samplesPerSecond: number; cpu: CpuUse }> {
  await initBackend({ order: ['wasm'] });
  const model = resolveBenchModel(defaultModelFolder(path.join(ROOT, 'models')));
  const generator = await loadServedGenerator(model.generatorDir);
  const latentSize = generator.inputs[0].shape[1];
  generator.dispose();
  if (typeof latentSize !== 'number') throw new Error(`generator input: expected [null, latentSize], got ${JSON.stringify(latentSize)}`);
  let onnx: OnnxServing | undefined;
  // serverInfo names ONNX Runtime first when it serves the generators ("onnxruntime+wasm").
  if (engine.split('+')[0] === ONNX_ENGINE) {
    const loaded = loadOnnxRuntime();
    if (!loaded.ok) throw new Error(`the server serves on ${engine}, but here ${loaded.reason}`);
    // The server's threads per session, read from the same environment the same way (GANQL_ONNX_THREADS).
    onnx = { runtime: loaded.runtime, threads: loadConfig(process.env).onnx.threads, providers: ['cpu'], engine: ONNX_ENGINE };
  }
  const executor = await WorkerExecutor.create({ workers, models: [{ id: 'g', dir: model.generatorDir }], ...(onnx ? { onnx } : {}) });
  try {
    const before = cpuSnapshot(process.pid);
    const { samplesPerSecond } = await timeExecutor(executor, 'g', latentSize, 64, seconds);
    return { samplesPerSecond, cpu: cpuUse(before, cpuSnapshot(process.pid)) };
  } finally {
    await executor.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
