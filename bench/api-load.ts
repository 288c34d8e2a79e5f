/**
 * ganql's HTTP API under load, from one run: a real ganql (in this process, temp SQLite file,
 * 127.0.0.1, an ephemeral port) driven by many concurrent clients, each asking for one sample at a
 * time, with the pool's batching on (defaults) and off (maxBatchSize 1, maxQueueDelayMs 0).
 *
 *   npx tsx bench/api-load.ts [--models models] [--seconds 15] [--clients 256] [--requests 10000]
 *                             [--raw-seconds 3] [--max-flat-seconds 180] [--engine wasm|onnxruntime]
 *
 * --engine: what serves generate (GANQL_BACKEND=wasm, or onnxruntime,wasm); the raw reference runs
 * the same engine on the same worker threads.
 *
 * Prints samples/s, latency p50/p99, mean batch size and errors per configuration; GET /healthz
 * latency while the batched server is saturated; tensor count and RSS before and after --requests
 * requests; and the ratios against their targets, PASS or MISS (a MISS does not fail the process).
 * The clients and the /healthz probe run in worker threads so their work does not sit on the
 * server's event loop, but they share the machine's cores with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { createGanql, type Ganql } from '../src/server/app';
import { numberArg, stringArg } from './lib/cli-args';
import { ONNX_ENGINE, type OnnxServing } from '../src/inference/onnx-sessions';
import { WorkerExecutor } from '../src/inference/worker-executor';
import { loadOnnxRuntime } from '../src/onnx/onnx-runtime';
import { loadServedGenerator } from '../src/models/served-generator';
import { timeExecutor, timeForward } from './lib/forward-timing';
import { errorCount, quantile, runHttpWorker, throughput, type HttpLoadResult } from './lib/http-load';
import { defaultModelFolder, resolveBenchModel } from './lib/model-dir';

/** --engine: the GANQL_BACKEND each serves with. */
const ENGINES: Record<string, string> = { wasm: 'wasm', onnxruntime: 'onnxruntime,wasm' };

const QUERY = JSON.stringify({ query: '{ samples(count: 1) { id image { dataUrl } } }' });
const TARGETS = { apiOverRaw: 0.8, batchedOverUnbatched: 10, healthP99Ms: 20, rssGrowth: 0.1 };

// A bench-only way to a full GC before memory readings, so they show what is retained, not garbage.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Server {
  ganql: Ganql;
  base: string;
  stop(): Promise<void>;
}

function ganqlEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('GANQL_') && e[1] !== undefined));
}

async function startServer(modelsDir: string, backend: string, poolEnv: Record<string, string>): Promise<Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-bench-'));
  const config = loadConfig(
    // GANQL_* settings of the caller apply (e.g. GANQL_MAX_CONCURRENT_REQUESTS), then the configuration under test.
    { ...ganqlEnv(), GANQL_BACKEND: backend, GANQL_LOG_LEVEL: 'error', DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`, ...poolEnv },
    { modelsDir, host: '127.0.0.1', port: 0 },
  );
  const ganql = await createGanql(config, createLogger(config.logLevel));
  const address = await ganql.listen();
  return {
    ganql,
    base: `http://127.0.0.1:${address.port}`,
    async stop() {
      await ganql.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function poolCounters(base: string): Promise<{ batches: number; items: number }> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ serverInfo { pool { batches items } } }' }),
  });
  const body = (await res.json()) as { data?: { serverInfo: { pool: { batches: number; items: number } } } };
  if (!body.data) throw new Error(`serverInfo: expected data, got ${JSON.stringify(body)}`);
  return body.data.serverInfo.pool;
}

interface LoadFigures {
  label: string;
  samplesPerSecond: number;
  p50: number;
  p99: number;
  meanBatch: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Event-loop delay of the server's (this) thread during the load, p99, ms. */
  loopDelayP99: number;
  health?: HttpLoadResult;
}

/** Warm-up, then `seconds` of `clients` back-to-back clients; optionally probes /healthz meanwhile. */
async function loadRun(server: Server, label: string, clients: number, seconds: number, probeHealth: boolean): Promise<LoadFigures> {
  const url = `${server.base}/graphql`;
  await runHttpWorker({ url, body: QUERY, graphql: true, clients, seconds: 30, requests: 2 * clients });
  const before = await poolCounters(server.base);
  let health: Promise<HttpLoadResult> | undefined;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const load = await runHttpWorker({ url, body: QUERY, graphql: true, clients, seconds }, () => {
    // From 1 s in (the queue is full by then) to before the load ends: 4 probers, each at most every 100 ms.
    if (probeHealth)
      health = runHttpWorker({ url: `${server.base}/healthz`, graphql: false, clients: 4, seconds: seconds - 1.5, delayMs: 1000, intervalMs: 100 });
  });
  loop.disable();
  const after = await poolCounters(server.base);
  return {
    label,
    samplesPerSecond: throughput(load, seconds),
    p50: quantile(load.latenciesMs, 0.5),
    p99: quantile(load.latenciesMs, 0.99),
    meanBatch: (after.items - before.items) / Math.max(1, after.batches - before.batches),
    errors: errorCount(load),
    errorKinds: load.errors,
    loopDelayP99: loop.percentile(99) / 1e6,
    health: await health,
  };
}

interface MemoryReading {
  /** Live tensors in the inference workers (serverInfo.pool.tensors) and on the server's own thread. */
  tensors: number;
  mainThreadTensors: number;
  rss: number;
  heapUsed: number;
}

async function readMemory(server: Server): Promise<MemoryReading> {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  const res = await fetch(`${server.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ serverInfo { pool { tensors } } }' }),
  });
  const body = (await res.json()) as { data?: { serverInfo: { pool: { tensors: number } } } };
  if (!body.data) throw new Error(`serverInfo: expected data, got ${JSON.stringify(body)}`);
  return { tensors: body.data.serverInfo.pool.tensors, mainThreadTensors: tf.memory().numTensors, rss, heapUsed };
}

/** Memory readings within a flatness run: enough to tell a plateau from a steady climb. */
const FLAT_SEGMENTS = 5;

/**
 * Tensor count and memory before `requests` requests (after a warm-up of a tenth of them) and after
 * each fifth of them; all within `maxSeconds` in total.
 */
async function flatnessRun(server: Server, clients: number, requests: number, maxSeconds: number) {
  const url = `${server.base}/graphql`;
  const deadline = performance.now() + maxSeconds * 1000;
  const secondsLeft = () => Math.max(0.001, (deadline - performance.now()) / 1000);
  await runHttpWorker({ url, body: QUERY, graphql: true, clients, seconds: secondsLeft(), requests: Math.ceil(requests / 10) });
  const readings = [await readMemory(server)];
  let completed = 0;
  let errors = 0;
  const start = performance.now();
  for (let k = 0; k < FLAT_SEGMENTS; k++) {
    const share = Math.floor((requests * (k + 1)) / FLAT_SEGMENTS) - Math.floor((requests * k) / FLAT_SEGMENTS);
    const run = await runHttpWorker({ url, body: QUERY, graphql: true, clients: Math.min(clients, share), seconds: secondsLeft(), requests: share });
    completed += run.latenciesMs.length;
    errors += errorCount(run);
    readings.push(await readMemory(server));
  }
  return { readings, before: readings[0], after: readings[readings.length - 1], completed, errors, seconds: (performance.now() - start) / 1000 };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

async function main(): Promise<void> {
  const modelsDir = path.resolve(stringArg('models', 'models'));
  const seconds = numberArg('seconds', 15, 3, 600);
  const clients = numberArg('clients', 256, 1, 4096);
  const requests = numberArg('requests', 10_000, 1, 10_000_000);
  const rawSeconds = numberArg('raw-seconds', 3, 0.5, 60);
  const maxFlatSeconds = numberArg('max-flat-seconds', 180, 1, 3600);
  const engine = stringArg('engine', 'wasm');
  const serverBackend = ENGINES[engine];
  if (serverBackend === undefined) throw new Error(`--engine: expected one of ${Object.keys(ENGINES).join(', ')}, got ${JSON.stringify(engine)}`);
  let onnx: OnnxServing | undefined;
  if (engine === 'onnxruntime') {
    const loaded = loadOnnxRuntime();
    if (!loaded.ok) throw new Error(`--engine onnxruntime: ${loaded.reason}`);
    onnx = { runtime: loaded.runtime, threads: 1, providers: ['cpu'], engine: ONNX_ENGINE };
  }

  const backend = await initBackend({ order: ['wasm'] });
  const model = resolveBenchModel(defaultModelFolder(modelsDir));
  const generator = await loadServedGenerator(model.generatorDir);
  const latentSize = generator.inputs[0].shape[1];
  if (typeof latentSize !== 'number') throw new Error(`generator input: expected [null, latentSize], got ${JSON.stringify(generator.inputs[0].shape)}`);
  const rawInProcess = timeForward(generator, latentSize, 64, rawSeconds);
  generator.dispose();
  // The raw figure the API is held to: the same executor the server runs by default (a worker per core), on the same engine.
  const executor = await WorkerExecutor.create({
    workers: os.availableParallelism(),
    models: [{ id: 'g', dir: model.generatorDir }],
    ...(onnx !== undefined ? { onnx } : {}),
  });
  const rawWorkers = await timeExecutor(executor, 'g', latentSize, 64, rawSeconds).finally(() => executor.close());
  const raw = rawWorkers.samplesPerSecond > rawInProcess.samplesPerSecond ? rawWorkers : rawInProcess;
  console.log(
    `model ${model.label}, GANQL_BACKEND=${serverBackend} (tfjs ${backend.name}); ${clients} clients x samples(count: 1) with image, ${seconds} s per configuration`,
  );
  console.log(`${os.cpus().length} CPUs shared by server, clients and anything else running (load average ${os.loadavg()[0].toFixed(2)})`);
  console.log(
    `raw forward b=64: in-process tfjs ${rawInProcess.samplesPerSecond.toFixed(1)} samples/s, ${os.availableParallelism()} worker threads (${engine}) ${rawWorkers.samplesPerSecond.toFixed(1)} samples/s (the better is the reference)\n`,
  );

  const batchedServer = await startServer(modelsDir, serverBackend, {});
  const pool = batchedServer.ganql.config.pool;
  let batched: LoadFigures;
  let flat: Awaited<ReturnType<typeof flatnessRun>>;
  try {
    batched = await loadRun(batchedServer, `batched (max ${pool.maxBatchSize}, ${pool.maxQueueDelayMs} ms)`, clients, seconds, true);
    flat = await flatnessRun(batchedServer, clients, requests, maxFlatSeconds);
  } finally {
    await batchedServer.stop();
  }
  const unbatchedServer = await startServer(modelsDir, serverBackend, { GANQL_MAX_BATCH_SIZE: '1', GANQL_MAX_QUEUE_DELAY_MS: '0' });
  let unbatched: LoadFigures;
  try {
    unbatched = await loadRun(unbatchedServer, 'unbatched (max 1, 0 ms)', clients, seconds, false);
  } finally {
    await unbatchedServer.stop();
  }

  console.log(`${'configuration'.padEnd(28)}samples/s   p50 ms   p99 ms  mean batch  errors  loop delay p99 ms`);
  for (const f of [batched, unbatched]) {
    console.log(
      `${f.label.padEnd(28)}${f.samplesPerSecond.toFixed(1).padStart(9)}${f.p50.toFixed(1).padStart(9)}${f.p99.toFixed(1).padStart(9)}` +
        `${f.meanBatch.toFixed(1).padStart(12)}${String(f.errors).padStart(8)}${f.loopDelayP99.toFixed(1).padStart(19)}`,
    );
    for (const [why, n] of Object.entries(f.errorKinds)) console.log(`  ${n} x ${why}`);
  }
  const health = batched.health!;
  const healthP50 = quantile(health.latenciesMs, 0.5);
  const healthP99 = quantile(health.latenciesMs, 0.99);
  console.log(
    `\nGET /healthz while the batched server was saturated: ${health.latenciesMs.length} probes, p50 ${healthP50.toFixed(1)} ms, ` +
      `p99 ${healthP99.toFixed(1)} ms, max ${quantile(health.latenciesMs, 1).toFixed(1)} ms, ${errorCount(health)} errors`,
  );
  const rssGrowth = (flat.after.rss - flat.before.rss) / flat.before.rss;
  console.log(
    `over ${flat.completed} of ${requests} requests (${flat.errors} errors, ${flat.seconds.toFixed(1)} s, after ${Math.ceil(requests / 10)} warm-up; ` +
      `server and clients share this process), before and after each fifth:`,
  );
  console.log(
    `  tensors        ${flat.readings.map((r) => r.tensors).join(' -> ')} in the inference workers, ${flat.readings.map((r) => r.mainThreadTensors).join(' -> ')} on the server thread`,
  );
  console.log(`  RSS            ${flat.readings.map((r) => mib(r.rss)).join(' -> ')} (${(rssGrowth * 100).toFixed(1)}%)`);
  console.log(`  JS heap used   ${flat.readings.map((r) => mib(r.heapUsed)).join(' -> ')}`);

  const apiOverRaw = batched.samplesPerSecond / raw.samplesPerSecond;
  const batchedOverUnbatched = batched.samplesPerSecond / unbatched.samplesPerSecond;
  const allDone = flat.completed === requests && flat.errors === 0;
  const tensorDelta = flat.after.tensors - flat.before.tensors;
  const targets: [string, string, boolean][] = [
    [`API >= ${TARGETS.apiOverRaw}x raw forward (b=64)`, `${apiOverRaw.toFixed(2)}x`, apiOverRaw >= TARGETS.apiOverRaw],
    [`API >= ${TARGETS.batchedOverUnbatched}x unbatched`, `${batchedOverUnbatched.toFixed(2)}x`, batchedOverUnbatched >= TARGETS.batchedOverUnbatched],
    [`/healthz p99 < ${TARGETS.healthP99Ms} ms under saturation`, `${healthP99.toFixed(1)} ms`, healthP99 < TARGETS.healthP99Ms && errorCount(health) === 0],
    [`tensor count flat over ${requests} requests`, `${tensorDelta >= 0 ? '+' : ''}${tensorDelta}`, allDone && tensorDelta === 0],
    [`RSS flat (< ${TARGETS.rssGrowth * 100}% growth) over ${requests} requests`, `${(rssGrowth * 100).toFixed(1)}%`, allDone && rssGrowth < TARGETS.rssGrowth],
  ];
  const width = Math.max(...targets.map(([t]) => t.length)) + 2;
  console.log(`\n${'target'.padEnd(width)}${'measured'.padStart(10)}`);
  for (const [target, measured, ok] of targets) console.log(`${target.padEnd(width)}${measured.padStart(10)}  ${verdict(ok)}`);
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
