/**
 * One DCGAN training step (k = 1, no techniques, batch 64) on tfjs with ganql's kernels, beside
 * the same step in PyTorch CPU, from one run, printed as a ratio.
 *
 *   npx tsx bench/train-step.ts [--steps 20] [--torch-steps 30] [--warmup 2] [--check-steps 3] [--batch-size 64] [--backend wasm]
 *
 * Setup: Debian's python3-torch and libopenblas0-pthread, run from /usr/bin/python3; the script
 * runs `apt-get install -y python3-torch libopenblas0-pthread` itself when they are missing (needs
 * root and the Debian mirror). The PyTorch side is bench/pytorch-train-step.py.
 *
 * tfjs: src/backend/backend.ts initBackend (as the server and the training CLI; wasm, ganql's
 * kernels), buildGenerator/buildDiscriminator and DcganTrainer.trainStep. PyTorch: the same
 * architecture in NCHW (parameter counts asserted equal), loss, Adam settings and step, at each of
 * TORCH_SETTINGS and both padding layouts; the fastest is the peer. Both sides time the median of
 * their steps after warm-up, with the noise made beforehand and one fixed real batch; tfjs's timed
 * steps run half before and half after PyTorch's, as the machine's other load may change meanwhile.
 *
 * Same-step check: PyTorch loads tfjs's initial weights (layouts transposed), the same real batch
 * and noise, and runs --check-steps steps; the losses of the first must agree within 1e-3.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/backend/backend';
import { loadMnist } from '../src/data/mnist';
import { buildDiscriminator, buildGenerator, resolveDcganConfig } from '../src/models/dcgan';
import { DcganTrainer, seededNoise, type Losses } from '../src/training/dcgan-trainer';
import { numberArg, stringArg } from './lib/cli-args';
import { ensurePytorch, lastJsonLine, PYTHON, runCommand, TORCH_SETTINGS } from './lib/pytorch-peer';

const LOSS_TOLERANCE = 1e-3;
const NOISE_SEED = 7;
const LAYOUTS = ['exact', 'standard'] as const;

interface StepTiming {
  msPerStep: number;
  min: number;
  max: number;
  steps: number;
}

interface PythonReport {
  torch: string;
  python: string;
  threads: number;
  openblasThreads: string;
  blasLibraries: string[];
  mkldnn: boolean;
  parameterCounts: { generator: number; discriminator: number };
  check: Losses[];
  timings: Record<(typeof LAYOUTS)[number], StepTiming>;
}

function isPythonReport(value: unknown): value is PythonReport {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<PythonReport>; // fields checked one by one below
  return (
    typeof r.torch === 'string' &&
    Array.isArray(r.check) &&
    typeof r.parameterCounts?.generator === 'number' &&
    LAYOUTS.every((layout) => typeof r.timings?.[layout]?.msPerStep === 'number')
  );
}

const countParameters = (model: tf.LayersModel): number => model.trainableWeights.reduce((n, w) => n + w.read().size, 0);

/** Every weight of the models (trainable and batchnorm statistics) in one float32 file + its manifest. */
function exportWeights(models: tf.LayersModel[], file: string): { name: string; shape: number[]; offset: number }[] {
  const manifest: { name: string; shape: number[]; offset: number }[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const model of models) {
    for (const layer of model.layers) {
      for (const w of layer.weights) {
        const data = w.read().dataSync() as Float32Array;
        // originalName: tfjs suffixes `name` with _1, _2 when the same layer names are built twice.
        manifest.push({ name: w.originalName, shape: w.shape.map(Number), offset });
        parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        offset += data.byteLength;
      }
    }
  }
  writeFileSync(file, Buffer.concat(parts));
  return manifest;
}

const writeFloats = (file: string, data: Float32Array): void => writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function cpuLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

async function main(): Promise<void> {
  const batchSize = numberArg('batch-size', 64, 1, 1024);
  const steps = numberArg('steps', 20, 2, 1000);
  const torchSteps = numberArg('torch-steps', 30, 1, 10_000);
  const warmup = numberArg('warmup', 2, 0, 100);
  const checkSteps = numberArg('check-steps', 3, 1, 20);
  ensurePytorch();

  const backend = await initBackend({ order: [stringArg('backend', 'wasm') as BackendName] });
  console.log(`machine: ${cpuLine()} (before)`);
  const architecture = resolveDcganConfig();
  const { latentSize, imageSize: size, channels } = architecture;
  const mnist = loadMnist({ split: 'train', limit: batchSize });
  const data = { images: mnist.images, count: mnist.count, shape: [size, size, channels] as [number, number, number] };
  const real = tf.tensor4d(mnist.images.subarray(0, batchSize * size * size * channels), [batchSize, size, size, channels]);
  const generator = buildGenerator(architecture);
  const discriminator = buildDiscriminator(architecture);
  const trainer = new DcganTrainer(generator, discriminator, data, { batchSize });
  const counts = { generator: countParameters(generator), discriminator: countParameters(discriminator) };
  // Noise of n steps, made before any timing: per step, the D step's batch, then the G step's.
  const perBatch = batchSize * latentSize;
  const noiseOf = (seed: number, n: number): { flat: Float32Array; steps: Float32Array[][] } => {
    const flat = seededNoise(n * 2 * batchSize, latentSize, seed);
    const batchAt = (j: number) => flat.subarray(j * perBatch, (j + 1) * perBatch);
    return { flat, steps: Array.from({ length: n }, (_, i) => [batchAt(2 * i), batchAt(2 * i + 1)]) };
  };

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-train-step-'));
  const tfjsCheck: Losses[] = [];
  const reports: (PythonReport & { label: string })[] = [];
  /** tfjs's step times before and after the PyTorch runs. */
  const tfjsMs: number[][] = [];
  try {
    const checkNoise = noiseOf(NOISE_SEED, checkSteps);
    const weights = exportWeights([generator, discriminator], path.join(tmp, 'weights.bin'));
    writeFloats(path.join(tmp, 'real.f32'), mnist.images.subarray(0, batchSize * size * size * channels));
    writeFloats(path.join(tmp, 'noise.f32'), checkNoise.flat);
    const { learningRate, beta1 } = trainer.options;
    writeFileSync(
      path.join(tmp, 'config.json'),
      JSON.stringify({ architecture, trainer: { learningRate, beta1 }, batchSize, tfjsParameterCounts: counts, weights }),
    );

    // The check steps first, from the exported initial weights; they warm tfjs up as well.
    for (const [zD, zG] of checkNoise.steps) tfjsCheck.push(trainer.trainStep([real], [zD, zG]));

    // Half of tfjs's timed steps before PyTorch runs and half after, so a change in the shared
    // machine's load between the two shows up (and does not all land on one side).
    const timed = noiseOf(NOISE_SEED + 1, warmup + steps).steps;
    const timeTfjs = (n: number): number[] =>
      timed.splice(0, n).map(([zD, zG]) => {
        const started = performance.now();
        trainer.trainStep([real], [zD, zG]);
        return performance.now() - started;
      });
    timeTfjs(warmup);
    tfjsMs.push(timeTfjs(Math.floor(steps / 2)));

    TORCH_SETTINGS.forEach((setting, i) => {
      const args = [
        path.join(__dirname, 'pytorch-train-step.py'),
        '--dir',
        tmp,
        '--threads',
        String(setting.threads),
        '--steps',
        String(torchSteps),
        '--warmup',
        '3',
      ];
      if (i === 0) args.push('--check-steps', String(checkSteps));
      const result = runCommand(PYTHON, args, { env: { ...process.env, ...setting.env }, timeoutMs: 10 * 60_000 });
      if (!result.ok) throw new Error(`pytorch-train-step.py (${setting.label}) failed: ${result.error?.message ?? 'non-zero exit'}`);
      const report = lastJsonLine(result.stdout, 'pytorch-train-step.py');
      if (!isPythonReport(report))
        throw new Error(`pytorch-train-step.py: expected {torch, check, parameterCounts, timings}, got ${result.stdout.slice(-300)}`);
      reports.push({ label: setting.label, ...report });
    });

    tfjsMs.push(timeTfjs(Math.ceil(steps / 2)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    trainer.dispose();
    generator.dispose();
    discriminator.dispose();
    real.dispose();
  }

  const r0 = reports[0];
  console.log(`machine: ${cpuLine()} (after)`);
  console.log(
    `versions: node ${process.version}, tfjs ${tf.version.tfjs} ${backend.name} (ganql kernels: ${backend.customKernels.join(', ') || 'none'}), 1 thread`,
  );
  console.log(
    `          PyTorch ${r0.torch} CPU on Python ${r0.python}, BLAS loaded: ${r0.blasLibraries.join(', ') || 'none found'}, mkldnn ${r0.mkldnn ? 'available' : 'absent'}`,
  );
  const countsMatch = counts.generator === r0.parameterCounts.generator && counts.discriminator === r0.parameterCounts.discriminator;
  console.log(
    `trainable parameters: generator ${counts.generator} (tfjs) / ${r0.parameterCounts.generator} (PyTorch), ` +
      `discriminator ${counts.discriminator} / ${r0.parameterCounts.discriminator}  ${countsMatch ? 'EQUAL' : 'DIFFERENT'}`,
  );

  console.log(`\nsame step: tfjs's initial weights, real batch and seeded noise in both (PyTorch exact layout)`);
  console.log(`${'step'.padEnd(6)}${['D tfjs', 'D PyTorch', '|diff|', 'G tfjs', 'G PyTorch', '|diff|'].map((h) => h.padStart(11)).join('')}`);
  const diffs = tfjsCheck.map((t, i) => {
    const p = r0.check[i];
    const dd = Math.abs(t.discriminator - p.discriminator);
    const dg = Math.abs(t.generator - p.generator);
    const cells = [
      t.discriminator.toFixed(6),
      p.discriminator.toFixed(6),
      dd.toExponential(1),
      t.generator.toFixed(6),
      p.generator.toFixed(6),
      dg.toExponential(1),
    ];
    console.log(`${String(i + 1).padEnd(6)}${cells.map((c) => c.padStart(11)).join('')}`);
    return Math.max(dd, dg);
  });
  const checkOk = r0.check.length === checkSteps && diffs[0] <= LOSS_TOLERANCE;
  console.log(
    `first step losses agree within ${LOSS_TOLERANCE}: ${checkOk ? 'PASS' : 'FAIL'} (max |diff| ${diffs[0].toExponential(1)}; all ${checkSteps} steps ${Math.max(...diffs).toExponential(1)})`,
  );

  const rows: [string, StepTiming][] = [];
  let best: { label: string; timing: StepTiming } | null = null;
  for (const report of reports) {
    for (const layout of LAYOUTS) {
      const timing = report.timings[layout];
      const label = `PyTorch ${report.label}, ${layout}`;
      rows.push([label, timing]);
      if (best === null || timing.msPerStep < best.timing.msPerStep) best = { label, timing };
    }
  }
  if (best === null) throw new Error('PyTorch: expected timings, got none');
  const timingOf = (ms: number[]): StepTiming => ({ msPerStep: median(ms), min: Math.min(...ms), max: Math.max(...ms), steps: ms.length });
  const tfjs = timingOf(tfjsMs.flat());
  rows.push([`tfjs ${backend.name} + ganql kernels, 1 thread`, tfjs]);
  rows.push(['  of which before PyTorch', timingOf(tfjsMs[0])]);
  rows.push(['  of which after PyTorch', timingOf(tfjsMs[1])]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  console.log(`\nms per training step (batch ${batchSize}, k=1, no techniques; median after warm-up)`);
  for (const [label, t] of rows)
    console.log(`${label.padEnd(width)}${t.msPerStep.toFixed(1).padStart(9)}  (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)}, ${t.steps} steps)`);
  const ratio = best.timing.msPerStep / tfjs.msPerStep;
  console.log(`\nPyTorch best: ${best.label}`);
  console.log(`PyTorch best / tfjs = ${best.timing.msPerStep.toFixed(1)} / ${tfjs.msPerStep.toFixed(1)} ms = ${ratio.toFixed(2)}  (> 1: ganql faster)`);
  // The fastest single steps are the least disturbed by other load on a shared machine.
  const fastest = Math.min(...rows.filter(([label]) => label.startsWith('PyTorch')).map(([, t]) => t.min));
  console.log(`fastest steps, PyTorch / tfjs = ${fastest.toFixed(1)} / ${tfjs.min.toFixed(1)} ms = ${(fastest / tfjs.min).toFixed(2)}`);
  console.log(`tensors left: ${tf.memory().numTensors}`);
  if (!countsMatch || !checkOk) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
