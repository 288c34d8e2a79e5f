/**
 * Raw forward throughput of a shipped generator as served (batchnorm folded), by batch size: on
 * this machine's tfjs backend in-process, then on ONNX Runtime, through ganql's executor beside
 * onnxruntime-node's own figure on the same ONNX file with the same threads.
 *
 *   npx tsx bench/forward.ts [--model models/dcgan-mnist] [--backend wasm] [--seconds 3] [--onnx-threads 1] [--rounds 2] [--onnx-only]
 *
 * tfjs: samples/s per batch size and each as a ratio of batch size 1.
 * ONNX: the generator exported as ganql exports it (export time, bytes), then per batch size (1, 64,
 * 256) ganql's WorkerExecutor with one worker serving it on ONNX Runtime (--onnx-threads intra-op
 * threads) against an InferenceSession on this thread made from the same file with the same
 * options, best of --rounds interleaved rounds each. Ours is fed as the inference pool feeds it under
 * load (executor.concurrency batches in flight: the worker's next batch waits in its queue while it
 * computes one); the ratio ours / raw is a PASS at 0.9 or more. Ours with one batch in flight at a
 * time (a lone client: each call pays the round trip to the worker thread) is printed beside it.
 * Other load on the machine skews every figure: the load average is printed before and after.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend, type BackendName } from '../src/backend/backend';
import { runGenerator } from '../src/inference/run-generator';
import { ONNX_ENGINE } from '../src/inference/onnx-sessions';
import { WorkerExecutor } from '../src/inference/worker-executor';
import { generatorOf, readManifest } from '../src/models/manifest';
import { loadServedGenerator } from '../src/models/served-generator';
import { exportOnnx } from '../src/onnx/export-onnx';
import { loadOnnxRuntime, type OnnxRuntime } from '../src/onnx/onnx-runtime';
import { onnxSessionOptions } from '../src/onnx/onnx-session';
import { numberArg, stringArg } from './lib/cli-args';
import { timeForward } from './lib/forward-timing';

const MODEL_ID = 'bench@1';
/** ganql's executor must keep this share of onnxruntime-node's own throughput. */
const TARGET = 0.9;

const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Samples/s of `run` (one batch of `batch` a call, `lanes` calls in flight) over about `seconds`, after one warm-up call per lane. */
async function throughput(run: () => Promise<unknown>, batch: number, seconds: number, lanes = 1): Promise<number> {
  await Promise.all(Array.from({ length: lanes }, run));
  let batches = 0;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() - start < seconds * 1000) {
      await run();
      batches++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return (batches * batch * 1000) / (performance.now() - start);
}

async function main(): Promise<void> {
  const dir = path.resolve(stringArg('model', 'models/dcgan-mnist'));
  const seconds = numberArg('seconds', 3, 0.1, 600);
  const threads = numberArg('onnx-threads', 1, 1, 64);
  const rounds = numberArg('rounds', 2, 1, 20);
  // initBackend refuses a name it does not know, naming the ones it does.
  const backend = await initBackend({ order: [stringArg('backend', 'wasm') as BackendName] });
  const manifest = readManifest(dir);
  const entry = generatorOf(manifest);
  if (entry === undefined) throw new Error(`${dir}: expected a model with a generator, got one without`);
  const generator = await loadServedGenerator(path.join(dir, entry.path));
  const { latentSize } = entry;
  console.log(
    `model ${manifest.name}@${manifest.version}; ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}; load average before: ${load()}`,
  );

  if (!process.argv.includes('--onnx-only')) {
    console.log(`\ntfjs backend ${backend.name} (custom kernels: ${backend.customKernels.join(', ') || 'none'}), in-process`);
    console.log('batch  samples/s  ms/batch  ratio-to-b1');
    let base = 0;
    for (const batch of [1, 8, 32, 64, 128, 256]) {
      const t = timeForward(generator, latentSize, batch, seconds);
      if (batch === 1) base = t.samplesPerSecond;
      console.log(
        `${String(batch).padStart(5)}  ${t.samplesPerSecond.toFixed(1).padStart(9)}  ${t.msPerBatch.toFixed(2).padStart(8)}  ${(t.samplesPerSecond / base).toFixed(2).padStart(11)}x`,
      );
    }
  }

  const loaded = loadOnnxRuntime();
  if (!loaded.ok) {
    console.log(`\nONNX Runtime: skipped (${loaded.reason})`);
    return;
  }
  const exportStart = performance.now();
  const bytes = exportOnnx(generator, { inputName: 'latent', outputName: 'image' });
  const exportMs = performance.now() - exportStart;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-forward-'));
  const file = path.join(tmp, 'generator.onnx');
  writeFileSync(file, bytes);
  console.log(
    `\nONNX Runtime ${loaded.version}, ${threads} intra-op thread${threads === 1 ? '' : 's'}; export ${exportMs.toFixed(1)} ms, ${bytes.byteLength} bytes`,
  );
  const onnx = { runtime: loaded.runtime, threads, providers: ['cpu' as const], engine: ONNX_ENGINE };
  const executor = await WorkerExecutor.create({ workers: 1, models: [{ id: MODEL_ID, dir: path.join(dir, entry.path) }], onnx });
  const raw = await rawSession(loaded.runtime, file, threads);
  try {
    const serving = executor.servingOf(MODEL_ID).generate;
    if (serving?.engine !== ONNX_ENGINE) throw new Error(`expected the executor to serve ${MODEL_ID} on onnxruntime, got ${JSON.stringify(serving)}`);
    const lanes = executor.concurrency;
    console.log(
      `best of ${rounds} interleaved rounds of ${seconds} s per cell; ours with ${lanes} batches in flight (the executor's concurrency), and one at a time`,
    );
    console.log('batch  ours samples/s  raw samples/s  ours/raw  target  one at a time  max |onnx - tfjs|');
    for (const batch of [1, 64, 256]) {
      const latents = Float32Array.from({ length: batch * latentSize }, (_, i) => Math.sin(i * 12.9898) * 1.5);
      const feed = { latent: new loaded.runtime.Tensor('float32', latents, [batch, latentSize]) };
      let ours = 0;
      let alone = 0;
      let theirs = 0;
      const call = () => executor.generate(MODEL_ID, latents.slice(), batch);
      for (let round = 0; round < rounds; round++) {
        theirs = Math.max(theirs, await throughput(() => raw.run(feed), batch, seconds));
        ours = Math.max(ours, await throughput(call, batch, seconds, lanes));
        alone = Math.max(alone, await throughput(call, batch, seconds));
      }
      const diff = maxAbsDiff(await executor.generate(MODEL_ID, latents.slice(), batch), await runGenerator(generator, latents, batch));
      const ratio = ours / theirs;
      console.log(
        `${String(batch).padStart(5)}  ${ours.toFixed(1).padStart(14)}  ${theirs.toFixed(1).padStart(13)}  ${ratio.toFixed(2).padStart(7)}x  ${ratio >= TARGET ? 'PASS' : 'MISS'}  ${alone.toFixed(1).padStart(13)}  ${diff.toExponential(2).padStart(16)}`,
      );
    }
  } finally {
    await executor.close();
    await raw.release();
    generator.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`load average after: ${load()}`);
}

/** onnxruntime-node on its own: the file on this thread, with the options ganql's sessions use. */
function rawSession(runtime: OnnxRuntime, file: string, threads: number) {
  return runtime.InferenceSession.create(file, onnxSessionOptions(threads));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
