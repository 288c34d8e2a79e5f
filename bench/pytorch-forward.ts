/**
 * The shipped generator on tfjs (this machine's wasm backend) against the same architecture and
 * weights in PyTorch CPU (Debian's python3-torch with OpenBLAS), from one run.
 *
 *   npx tsx bench/pytorch-forward.ts [--model models/dcgan-mnist] [--seconds 1.5]
 *
 * Installs python3-torch and libopenblas0-pthread with apt-get when missing (needs root and the
 * Debian mirror). Prints samples/s at b=1, 64, 256 for tfjs and for PyTorch's best thread setting
 * (1 thread; 2 threads with OPENBLAS_NUM_THREADS=1), the largest difference between their images
 * on the same seeded latents, and the tfjs/PyTorch ratio against the target at b=64.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend';
import { seededLatents } from '../src/samples/latents';
import { numberArg, stringArg } from './lib/cli-args';
import { WorkerExecutor } from '../src/inference/worker-executor';
import { loadServedGenerator } from '../src/models/served-generator';
import { timeExecutor, timeForward, type ForwardTiming } from './lib/forward-timing';
import { resolveBenchModel } from './lib/model-dir';

/** Debian's torch is importable only from the system interpreter, not a pyenv python3 on PATH. */
const PYTHON = '/usr/bin/python3';
const PACKAGES = ['python3-torch', 'libopenblas0-pthread'];
const BATCHES = [1, 64, 256];
/** Images compared between the two frameworks. */
const CHECK_COUNT = 64;
const TARGET_RATIO_B64 = 1.0;
/** The two settings TFJS-NOTES found fastest; OpenBLAS threads on top of torch's would oversubscribe 2 cores. */
const SETTINGS: { label: string; threads: number; env: Record<string, string> }[] = [
  { label: 'torch 1 thread', threads: 1, env: {} },
  { label: 'torch 2 threads, OPENBLAS_NUM_THREADS=1', threads: 2, env: { OPENBLAS_NUM_THREADS: '1' } },
];

interface PythonReport {
  torch: string;
  threads: number;
  openblasThreads: string;
  blasLibraries: string[];
  mkldnn: boolean;
  timings: Record<'exact' | 'standard', ForwardTiming[]>;
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; quiet?: boolean }) {
  const result = spawnSync(command, args, {
    env: options.env ?? process.env,
    timeout: options.timeoutMs,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', options.quiet ? 'pipe' : 'inherit'],
  });
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

function missingPackages(): string[] {
  const torch = run(PYTHON, ['-c', 'import torch'], { timeoutMs: 60_000, quiet: true }).ok;
  const blas = run('dpkg-query', ['-W', '-f=${Status}', 'libopenblas0-pthread'], { timeoutMs: 10_000, quiet: true }).stdout.includes('install ok installed');
  return [...(torch ? [] : ['python3-torch']), ...(blas ? [] : ['libopenblas0-pthread'])];
}

/** apt-get install, with an `apt-get update` first only when the package lists lack them. */
function ensurePackages(): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y ${PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0) throw new Error(`${missing.join(', ')} missing: run \`${command}\` as root, then rerun`);
  console.log(`installing ${missing.join(', ')} (${command}) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], { env, timeoutMs: 20 * 60_000, quiet: true });
  let result = install();
  if (!result.ok) {
    run('apt-get', ['update'], { env, timeoutMs: 5 * 60_000, quiet: true });
    result = install();
  }
  if (!result.ok || missingPackages().length > 0) {
    throw new Error(`${command} failed: ${(result.error?.message ?? result.stderr).trim().split('\n').slice(-3).join(' / ')}`);
  }
}

/** The last stdout line that parses as the script's report (robust to banners). */
function parseReport(stdout: string): PythonReport {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`pytorch-forward.py: expected a JSON report on stdout, got ${JSON.stringify(stdout.slice(-500))}`);
  return JSON.parse(line) as PythonReport;
}

const fmt = (v: number, digits = 1) => v.toFixed(digits).padStart(9);

async function main(): Promise<void> {
  const model = resolveBenchModel(path.resolve(stringArg('model', 'models/dcgan-mnist')));
  const seconds = numberArg('seconds', 1.5, 0.1, 60);
  ensurePackages();

  const backend = await initBackend({ order: ['wasm'] });
  const generator = await loadServedGenerator(model.generatorDir);
  const latentSize = generator.inputs[0].shape[1];
  if (typeof latentSize !== 'number') throw new Error(`generator input: expected [null, latentSize], got ${JSON.stringify(generator.inputs[0].shape)}`);
  console.log(
    `model ${model.label} (${model.generatorDir}); ${os.cpus().length} CPUs, shared with whatever else runs (see load average ${os.loadavg()[0].toFixed(2)})`,
  );

  // Fixed seeded noise through both frameworks.
  const latents = seededLatents(7, CHECK_COUNT, latentSize);
  const flat = new Float32Array(CHECK_COUNT * latentSize);
  latents.forEach((z, i) => flat.set(z, i * latentSize));
  const tfImages = tf.tidy(() => generator.predict(tf.tensor2d(flat, [CHECK_COUNT, latentSize]), { batchSize: CHECK_COUNT }) as tf.Tensor);
  const tfData = tfImages.dataSync() as Float32Array;
  tfImages.dispose();

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-pytorch-'));
  const reports: (PythonReport & { label: string })[] = [];
  let maxAbsDiff = NaN;
  try {
    const latentsFile = path.join(tmp, 'latents.f32');
    const imagesFile = path.join(tmp, 'images.f32');
    writeFileSync(latentsFile, Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
    SETTINGS.forEach((setting, i) => {
      const compare = i === 0 ? ['--latents', latentsFile, '--count', String(CHECK_COUNT), '--out', imagesFile] : [];
      const script = path.join(__dirname, 'pytorch-forward.py');
      const args = [
        script,
        '--generator',
        model.generatorDir,
        '--threads',
        String(setting.threads),
        '--seconds',
        String(seconds),
        '--batches',
        BATCHES.join(','),
        ...compare,
      ];
      // 2 layouts x 3 batch sizes x `seconds`, plus start-up and warm-up: bounded well above that.
      const result = run(PYTHON, args, { env: { ...process.env, ...setting.env }, timeoutMs: (120 + 12 * seconds) * 1000 });
      if (!result.ok) throw new Error(`pytorch-forward.py (${setting.label}) failed: ${result.error?.message ?? 'non-zero exit'}`);
      reports.push({ label: setting.label, ...parseReport(result.stdout) });
      if (i === 0) {
        const bytes = readFileSync(imagesFile);
        const torchData = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        if (torchData.length !== tfData.length) throw new Error(`PyTorch images: expected ${tfData.length} values, got ${torchData.length}`);
        maxAbsDiff = torchData.reduce((m, v, k) => Math.max(m, Math.abs(v - tfData[k])), 0);
      }
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const inProcess = BATCHES.map((b) => timeForward(generator, latentSize, b, seconds));
  generator.dispose();
  // ganql's default executor on 2 cores: 2 worker threads, each its own single-threaded wasm backend.
  const workers = Math.min(2, os.availableParallelism());
  const executor = await WorkerExecutor.create({ workers, models: [{ id: 'g', dir: model.generatorDir }] });
  const pooled: ForwardTiming[] = [];
  try {
    for (const b of BATCHES) pooled.push(await timeExecutor(executor, 'g', latentSize, b, seconds));
  } finally {
    await executor.close();
  }
  const tfjs = BATCHES.map((_, k) => (pooled[k].samplesPerSecond > inProcess[k].samplesPerSecond ? pooled[k] : inProcess[k]));

  const r0 = reports[0];
  console.log(`PyTorch ${r0.torch} CPU, BLAS loaded: ${r0.blasLibraries.join(', ') || 'none found'}, mkldnn ${r0.mkldnn ? 'available' : 'absent'}`);
  console.log(`tfjs ${tf.version.tfjs} ${backend.name} (custom kernels: ${backend.customKernels.join(', ') || 'none'})`);
  console.log(`max |tfjs - PyTorch| over ${CHECK_COUNT} images of seeded latents (exact layout): ${maxAbsDiff.toExponential(2)}`);
  const rows: [string, number[]][] = [];
  const best = BATCHES.map(() => ({ samplesPerSecond: 0, label: '' }));
  for (const report of reports) {
    for (const layout of ['exact', 'standard'] as const) {
      const row = report.timings[layout];
      rows.push([`PyTorch ${report.label}, ${layout}`, row.map((t) => t.samplesPerSecond)]);
      row.forEach((t, k) => {
        if (t.samplesPerSecond > best[k].samplesPerSecond) best[k] = { samplesPerSecond: t.samplesPerSecond, label: `${report.label}, ${layout}` };
      });
    }
  }
  rows.push(['PyTorch best', best.map((b) => b.samplesPerSecond)]);
  rows.push([`tfjs ${backend.name}, in-process (1 thread)`, inProcess.map((t) => t.samplesPerSecond)]);
  rows.push([`tfjs ${backend.name}, ${workers} worker threads`, pooled.map((t) => t.samplesPerSecond)]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  console.log(`\n${'samples/s'.padEnd(width)}${BATCHES.map((b) => `b=${b}`.padStart(9)).join('')}`);
  for (const [label, values] of rows) console.log(`${label.padEnd(width)}${values.map((v) => fmt(v)).join('')}`);
  console.log(`${'tfjs best / PyTorch best'.padEnd(width)}${tfjs.map((t, k) => fmt(t.samplesPerSecond / best[k].samplesPerSecond, 2)).join('')}`);
  const k64 = BATCHES.indexOf(64);
  const ratio = tfjs[k64].samplesPerSecond / best[k64].samplesPerSecond;
  console.log(`\nPyTorch best at b=64: ${best[k64].label}`);
  console.log(
    `target raw forward >= ${TARGET_RATIO_B64.toFixed(1)}x PyTorch at b=64: measured ${ratio.toFixed(2)}x  ${ratio >= TARGET_RATIO_B64 ? 'PASS' : 'MISS'}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
