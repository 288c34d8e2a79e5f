/**
 * Generator throughput by executor, before and after ganql's inference optimisations, from one run.
 *
 *   npx tsx bench/executors.ts [--model models/dcgan-mnist] [--seconds 1] [--rounds 3] [--batches 1,64,256] [--workers 1,2]
 *
 * "before": tfjs-backend-wasm's own kernels, the model as saved.
 * "after":  ganql's wasm kernels (src/backend/kernels) and batchnorm folded (src/models/fold-batch-norm).
 * Executors: in-process (this thread) and WorkerExecutor with each --workers count, each kept busy
 * with as many batches in flight as its concurrency. Prints the best samples/s of --rounds
 * interleaved rounds per cell, with that round's mean ms per batch and 99th-percentile event-loop
 * delay (what a request arriving on this thread waits), then ratios.
 * Without a finished model at --model (training writes it last), a fresh DCGAN generator with the
 * default config is saved to a temp folder: same layers and FLOPs, random weights.
 * Other processes on the machine skew every figure: each row shows how many cores they kept busy
 * during the round reported (from /proc/stat), and the load average is printed before and after.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend';
import { registerCustomKernels } from '../src/backend/kernels';
import type { Executor } from '../src/inference/executor';
import { runGenerator } from '../src/inference/run-generator';
import { WorkerExecutor } from '../src/inference/worker-executor';
import { buildGenerator, defaultDcganConfig } from '../src/models/dcgan';
import { foldBatchNorm } from '../src/models/fold-batch-norm';
import { loadLayersModel, saveLayersModel } from '../src/models/io';
import { generatorOf, readManifest } from '../src/models/manifest';

const MODEL_ID = 'bench@1';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function positiveInts(name: string, fallback: string): number[] {
  const raw = arg(name, fallback);
  const values = raw.split(',').map(Number);
  if (values.length === 0 || !values.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error(`--${name}: expected a comma list of positive integers, got ${JSON.stringify(raw)}`);
  }
  return values;
}

/** The generator folder to bench and its latent size: the trained model if finished, else a fresh one. */
async function generatorDir(modelDir: string): Promise<{ dir: string; latentSize: number; label: string; cleanup: () => void }> {
  const manifestPath = path.join(modelDir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = readManifest(modelDir);
    const generator = generatorOf(manifest);
    if (generator === undefined) throw new Error(`${modelDir}: expected a model with a generator, got one without`);
    return {
      dir: path.join(modelDir, generator.path),
      latentSize: generator.latentSize,
      label: `${manifest.name}@${manifest.version}`,
      cleanup: () => undefined,
    };
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-bench-'));
  const generator = buildGenerator();
  await saveLayersModel(generator, tmp);
  generator.dispose();
  return {
    dir: tmp,
    latentSize: defaultDcganConfig.latentSize,
    label: `fresh default DCGAN generator (no manifest at ${modelDir})`,
    cleanup: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

/** The main thread's generator behind the Executor interface, one batch at a time. */
function inProcess(generator: tf.LayersModel): Executor {
  return {
    description: 'in-process wasm',
    concurrency: 1,
    generate: (_modelId, latents, n) => runGenerator(generator, latents, n),
    // This bench times generators only.
    classify: () => Promise.reject(new Error('bench executor: no classifier')),
    hasClassifier: () => false,
    servingOf: () => ({ generate: { engine: 'wasm' } }),
    enginesOf: () => ['wasm'],
    layerPass: () => Promise.reject(new Error('bench executor: no feature network')),
    hasFeatureNetwork: () => false,
    optimalStimulus: () => Promise.reject(new Error('bench executor: no feature network')),
    loadModel: () => Promise.reject(new Error('bench executor: one fixed generator')),
    unloadModel: () => Promise.reject(new Error('bench executor: one fixed generator')),
    tensorCount: () => tf.memory().numTensors,
    close: async () => undefined,
  };
}

const modes = ['before', 'after'] as const;
type Mode = (typeof modes)[number];

interface Row extends Measurement {
  mode: Mode;
  executor: string;
  batch: number;
}

interface Measurement {
  samplesPerSecond: number;
  msPerBatch: number;
  /** 99th percentile of the event loop's delay meanwhile: how long a request on this thread would wait. */
  loopDelayP99Ms: number;
  /** Cores other processes kept busy meanwhile (Linux /proc/stat); NaN where unknown. */
  othersCores: number;
}

/** Busy CPU time of the whole machine and of this process (all its threads), in ms. */
function cpuTimes(): { machineMs: number; ownMs: number; at: number } {
  const own = process.cpuUsage();
  let machineMs = Number.NaN;
  try {
    // "cpu user nice system idle iowait irq softirq steal ..." in USER_HZ ticks (100 per second on Linux).
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    machineMs = (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    // Not Linux: the column shows NaN.
  }
  return { machineMs, ownMs: (own.user + own.system) / 1000, at: performance.now() };
}

/** Keeps `executor.concurrency` batches in flight for about `seconds`: samples/s, the mean time of one batch, event-loop delay. */
async function measure(executor: Executor, latents: Float32Array, batch: number, seconds: number): Promise<Measurement> {
  const one = () => executor.generate(MODEL_ID, latents.slice(), batch);
  // Warm-up: every worker compiles its kernels and sizes its buffers.
  await Promise.all(Array.from({ length: executor.concurrency }, one));
  let batches = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpuBefore = cpuTimes();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      await one();
      batches += 1;
      // Let the event loop turn between batches, as a server's does (requests arrive as I/O).
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: executor.concurrency }, lane));
  const elapsed = performance.now() - started;
  loop.disable();
  const cpuAfter = cpuTimes();
  const othersCores = (cpuAfter.machineMs - cpuBefore.machineMs - (cpuAfter.ownMs - cpuBefore.ownMs)) / (cpuAfter.at - cpuBefore.at);
  return {
    samplesPerSecond: (batches * batch * 1000) / elapsed,
    msPerBatch: (elapsed * executor.concurrency) / batches,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    othersCores: Math.max(0, othersCores),
  };
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '1'));
  if (!(seconds > 0)) throw new Error(`--seconds: expected a positive number, got ${arg('seconds', '1')}`);
  const rounds = positiveInts('rounds', '3')[0];
  const batches = positiveInts('batches', '1,64,256');
  const workerCounts = positiveInts('workers', '1,2');
  await initBackend({ order: ['wasm'], customKernels: false });
  // tfjs's own kernels, kept so "before" can be restored after ganql's are registered over them.
  const tfjsKernels = ['Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((name) => tf.getKernel(name, 'wasm'));
  const useKernels = (mode: Mode): void => {
    if (mode === 'after') {
      registerCustomKernels('wasm');
      return;
    }
    for (const kernel of tfjsKernels) {
      if (kernel === undefined) continue;
      tf.unregisterKernel(kernel.kernelName, 'wasm');
      tf.registerKernel(kernel);
    }
  };
  const model = await generatorDir(path.resolve(arg('model', 'models/dcgan-mnist')));
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`model: ${model.label}`);
  console.log(`machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}; load average before: ${load()}`);
  console.log(`best of ${rounds} rounds of ${seconds} s per cell, cells interleaved so that other load hits them alike\n`);

  const saved = await loadLayersModel(model.dir);
  const folded = await foldBatchNorm(saved);
  const executors: { mode: Mode; name: string; executor: Executor }[] = [];
  for (const mode of modes) {
    executors.push({ mode, name: 'in-process', executor: inProcess(mode === 'after' ? folded : saved) });
    for (const w of workerCounts) {
      const executor = await WorkerExecutor.create({ workers: w, models: [{ id: MODEL_ID, dir: model.dir }], optimize: mode === 'after' });
      executors.push({ mode, name: `${w} worker${w === 1 ? '' : 's'}`, executor });
    }
  }
  const latentsFor = new Map(batches.map((b) => [b, Float32Array.from({ length: b * model.latentSize }, (_, i) => Math.sin(i * 12.9898) * 1.5)]));
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const { mode, name, executor } of executors) {
      useKernels(mode);
      for (const batch of batches) {
        const result = await measure(executor, latentsFor.get(batch) as Float32Array, batch, seconds);
        const row = rows.find((r) => r.mode === mode && r.executor === name && r.batch === batch);
        if (row === undefined) rows.push({ mode, executor: name, batch, ...result });
        else if (result.samplesPerSecond > row.samplesPerSecond) Object.assign(row, result);
      }
    }
  }
  await Promise.all(executors.map((e) => e.executor.close()));
  saved.dispose();
  folded.dispose();
  model.cleanup();

  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(6)}  ${r.executor.padEnd(10)}  b=${String(r.batch).padEnd(4)} ${r.samplesPerSecond.toFixed(1).padStart(8)} samples/s  ${r.msPerBatch.toFixed(2).padStart(8)} ms/batch  event loop p99 ${r.loopDelayP99Ms.toFixed(1).padStart(6)} ms  others' CPU ${r.othersCores.toFixed(2)} cores`,
    );
  }
  console.log(`load average after: ${load()}`);

  const find = (mode: Mode, executor: string, batch: number) => rows.find((r) => r.mode === mode && r.executor === executor && r.batch === batch) as Row;
  const names = [...new Set(rows.map((r) => r.executor))];
  const ratio = (a: Row, b: Row) => `b=${a.batch}: ${(a.samplesPerSecond / b.samplesPerSecond).toFixed(2)}x`;
  console.log('\nafter / before (same executor)');
  for (const name of names) console.log(`  ${name.padEnd(10)} ${batches.map((b) => ratio(find('after', name, b), find('before', name, b))).join('  ')}`);
  for (const mode of modes) {
    console.log(`\n${mode}: executor / in-process`);
    for (const name of names.filter((n) => n !== 'in-process')) {
      console.log(`  ${name.padEnd(10)} ${batches.map((b) => ratio(find(mode, name, b), find(mode, 'in-process', b))).join('  ')}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
