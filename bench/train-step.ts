/**
 * Training steps on tfjs with ganql's kernels beside the same steps in PyTorch CPU, from one run,
 * printed as ratios with PASS/MISS against 2x PyTorch's best: the DCGAN step (k = 1, no techniques,
 * batch 64), the K+1 semi-supervised MLP step of Salimans et al. (bench/lib/kplusone-step.ts), the
 * MLP GAN step of Goodfellow et al. (bench/lib/mlp-gan-step.ts) and the sparse autoencoder step of an
 * autoencoder training job (Le et al. 2012's kind; bench/lib/autoencoder-step.ts); then memory over
 * --memory-steps DCGAN steps (tensor count and RSS).
 *
 *   npx tsx bench/train-step.ts [--arch dcgan,kplusone,mlp-gan,autoencoder] [--steps 20] [--torch-steps 30] [--warmup 2] [--check-steps 3]
 *                               [--batch-size 64] [--backend wasm] [--memory-steps 1000] [--threads N]
 *
 * Times are wall-clock medians; the CPU time per step (user + system of the process, PyTorch at 1
 * thread) is printed beside them, as it barely changes when other processes share the cores.
 *
 * Setup: Debian's python3-torch and libopenblas0-pthread, run from /usr/bin/python3; the script
 * runs `apt-get install -y python3-torch libopenblas0-pthread` itself when they are missing (needs
 * root and the Debian mirror). The PyTorch side is bench/pytorch-train-step.py (DCGAN),
 * bench/pytorch-kplusone-step.py, bench/pytorch-mlp-gan-step.py and bench/pytorch-autoencoder-step.py,
 * sharing bench/step_peer.py; the other steps' tfjs side shares bench/lib/peer-step-bench.ts.
 *
 * tfjs: src/backend/backend.ts initBackend as training jobs and the training CLI call it (wasm,
 * ganql's kernels, the native training kernels with --threads threads per call, by default one per
 * core; --threads 0 times wasm's kernels alone), buildGenerator/buildDiscriminator and DcganTrainer.trainStep. PyTorch: the same
 * architecture in NCHW (parameter counts asserted equal), loss, Adam settings and step, at each of
 * TORCH_SETTINGS and both padding layouts; the fastest is the peer. Both sides time the median of
 * their steps after warm-up, with the noise made beforehand and one fixed real batch; tfjs's timed
 * steps run half before and half after PyTorch's, as the machine's other load may change meanwhile.
 *
 * Same-step check: PyTorch loads tfjs's initial weights (layouts transposed), the same real batch
 * and noise, and runs --check-steps steps (the K+1, MLP GAN and autoencoder checks without their
 * noise or dropout, which two libraries cannot draw alike); the DCGAN and MLP GAN losses of every
 * check step must agree within 1e-4, the K+1 losses (in the thousands for feature matching) of the
 * first step within 1e-4 of max(1, |loss|), the autoencoder's reconstruction MSE and sparsity
 * penalty of the first step within 1e-4 relative.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeKernels, initBackend, type BackendName } from '../src/backend/backend';
import { defaultTrainingThreads } from '../src/config/config';
import { loadMnist, type MnistData } from '../src/data/mnist';
import { buildDiscriminator, buildGenerator, resolveDcganConfig } from '../src/models/dcgan';
import { DcganTrainer, seededNoise, type Losses } from '../src/training/dcgan-trainer';
import { numberArg, stringArg } from './lib/cli-args';
import { runAutoencoderBench } from './lib/autoencoder-step';
import { runKPlusOneBench } from './lib/kplusone-step';
import { runMlpGanBench } from './lib/mlp-gan-step';
import type { PeerBenchResult } from './lib/peer-step-bench';
import { ensurePytorch, lastJsonLine, PYTHON, runCommand, TORCH_SETTINGS } from './lib/pytorch-peer';
import { countParameters, cpuLine, exportWeights, timeSteps, timingOf, writeFloats, type StepTiming } from './lib/step-timing';

const LOSS_TOLERANCE = 1e-4;
/** The target: ganql's step within this factor of PyTorch's best. */
const TARGET_RATIO = 2;
const NOISE_SEED = 7;
const LAYOUTS = ['exact', 'standard'] as const;
const ARCHITECTURES = ['dcgan', 'kplusone', 'mlp-gan', 'autoencoder'] as const;
type Architecture = (typeof ARCHITECTURES)[number];

interface PythonReport {
  torch: string;
  python: string;
  threads: number;
  openblasThreads: string;
  blasLibraries: string[];
  mkldnn: boolean;
  parameterCounts: { generator: number; discriminator: number };
  check: Record<string, number>[];
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

/** One architecture's line of the closing summary. */
interface Row {
  architecture: string;
  tfjs: StepTiming;
  torch: { label: string; timing: StepTiming };
  /** PyTorch at 1 thread, for the CPU-time ratio. */
  torchOneThread: StepTiming;
  checkOk: boolean;
}

interface Options {
  batchSize: number;
  steps: number;
  torchSteps: number;
  warmup: number;
  checkSteps: number;
  /** Which kernels train, as the rows name them (describeKernels). */
  kernels: string;
}

/** A loss in the check table: its key in the step's losses and its column label. */
type LossColumn = [key: string, label: string];
const GAN_LOSSES: LossColumn[] = [
  ['discriminator', 'D'],
  ['generator', 'G'],
];

/**
 * How the check steps' losses must agree: 'every-step', each step's within LOSS_TOLERANCE; 'first-step',
 * the first step's within LOSS_TOLERANCE of max(floor, |loss|) (later steps part as float32 rounding
 * grows through Adam: floor 1 for losses in the thousands, 0 for a relative check of losses below 1).
 */
type CheckRule = { kind: 'every-step' } | { kind: 'first-step'; floor: number };

/** Prints the check steps' losses, one column group per loss, and whether they agree by `rule`. */
function printChecks(
  title: string,
  columns: LossColumn[],
  rows: { tfjs: Record<string, number>; torch: Record<string, number> }[],
  expected: number,
  rule: CheckRule,
): boolean {
  console.log(`\n${title}`);
  const header = columns.flatMap(([, label]) => [`${label} tfjs`, `${label} PyTorch`, '|diff|']);
  console.log(`${'step'.padEnd(6)}${header.map((h) => h.padStart(13)).join('')}`);
  // A loss PyTorch did not report reads as NaN, which fails every comparison.
  const value = (losses: Record<string, number>, key: string) => losses[key] ?? NaN;
  const diffs = rows.map(({ tfjs: t, torch: p }, i) => {
    const d = columns.map(([key]) => Math.abs(value(t, key) - value(p, key)));
    const cells = columns.flatMap(([key], j) => [value(t, key).toFixed(6), value(p, key).toFixed(6), d[j].toExponential(1)]);
    console.log(`${String(i + 1).padEnd(6)}${cells.map((c) => c.padStart(13)).join('')}`);
    return d;
  });
  if (rule.kind === 'first-step') {
    const p = rows[0]?.torch ?? {};
    const relative = Math.max(...columns.map(([key], j) => (diffs[0]?.[j] ?? NaN) / Math.max(rule.floor, Math.abs(value(p, key)))));
    const ok = rows.length === expected && relative <= LOSS_TOLERANCE;
    const of = rule.floor > 0 ? `of max(${rule.floor}, |loss|)` : 'relative';
    console.log(`first step losses agree within ${LOSS_TOLERANCE} ${of}: ${ok ? 'PASS' : 'FAIL'} (${relative.toExponential(1)})`);
    return ok;
  }
  const worst = Math.max(...diffs.flat());
  const ok = rows.length === expected && worst <= LOSS_TOLERANCE;
  console.log(`losses of all ${expected} steps agree within ${LOSS_TOLERANCE}: ${ok ? 'PASS' : 'FAIL'} (max |diff| ${worst.toExponential(1)})`);
  return ok;
}

function printTimings(title: string, rows: [string, StepTiming][]): void {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  console.log(`\n${title}`);
  for (const [label, t] of rows) {
    const cpu = t.cpuMsPerStep === undefined ? '' : `, CPU ${t.cpuMsPerStep.toFixed(1)} ms`;
    console.log(`${label.padEnd(width)}${t.msPerStep.toFixed(1).padStart(9)}  (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)}, ${t.steps} steps${cpu})`);
  }
}

async function benchDcgan(backendName: string, mnist: MnistData, o: Options): Promise<Row> {
  const { batchSize, steps, torchSteps, warmup, checkSteps } = o;
  const architecture = resolveDcganConfig();
  const { latentSize, imageSize: size, channels } = architecture;
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
  const tfjsMs: { wall: number[]; cpu: number[] }[] = [];
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
    const timeTfjs = (n: number) => {
      const batch = timed.splice(0, n);
      return timeSteps(n, (i) => trainer.trainStep([real], batch[i]));
    };
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
  console.log(`\n== DCGAN step (batch ${batchSize}, k=1, no techniques) ==`);
  console.log(
    `PyTorch ${r0.torch} CPU on Python ${r0.python}, BLAS loaded: ${r0.blasLibraries.join(', ') || 'none found'}, mkldnn ${r0.mkldnn ? 'available' : 'absent'}`,
  );
  const countsMatch = counts.generator === r0.parameterCounts.generator && counts.discriminator === r0.parameterCounts.discriminator;
  console.log(
    `trainable parameters: generator ${counts.generator} (tfjs) / ${r0.parameterCounts.generator} (PyTorch), ` +
      `discriminator ${counts.discriminator} / ${r0.parameterCounts.discriminator}  ${countsMatch ? 'EQUAL' : 'DIFFERENT'}`,
  );
  const checkOk = printChecks(
    "same steps: tfjs's initial weights, real batch and seeded noise in both (PyTorch exact layout)",
    GAN_LOSSES,
    tfjsCheck.map((t, i) => ({ tfjs: { discriminator: t.discriminator, generator: t.generator }, torch: r0.check[i] ?? {} })),
    checkSteps,
    { kind: 'every-step' },
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
  const tfjs = timingOf([...tfjsMs[0].wall, ...tfjsMs[1].wall], [...tfjsMs[0].cpu, ...tfjsMs[1].cpu]);
  rows.push([`tfjs ${backendName}, ${o.kernels}`, tfjs]);
  rows.push(['  of which before PyTorch', timingOf(tfjsMs[0].wall, tfjsMs[0].cpu)]);
  rows.push(['  of which after PyTorch', timingOf(tfjsMs[1].wall, tfjsMs[1].cpu)]);
  printTimings('ms per training step (median after warm-up)', rows);
  const oneThread = LAYOUTS.map((layout) => r0.timings[layout]).reduce((a, b) => (a.msPerStep <= b.msPerStep ? a : b));
  return { architecture: `DCGAN, batch ${batchSize}`, tfjs, torch: best, torchOneThread: oneThread, checkOk: checkOk && countsMatch };
}

/** How bench/train-step.ts prints a peer bench (K+1, MLP GAN, autoencoder). */
interface PeerReport {
  /** Its line in the summary. */
  architecture: string;
  title: string;
  checkTitle: string;
  losses: LossColumn[];
  rule: CheckRule;
}

/** Prints a peer bench's parameter counts, checks and timings and returns its summary line. */
function reportPeerBench(r: PeerReport, result: PeerBenchResult, o: Options): Row {
  console.log(`\n== ${r.title} ==`);
  const { tfjs: tc, torch: pc } = result.counts;
  const names = Object.keys(tc);
  const countsMatch = names.length === Object.keys(pc).length && names.every((n) => tc[n] === pc[n]);
  const counts = names.map((n, i) => `${n} ${tc[n]}${i === 0 ? ' (tfjs)' : ''} / ${pc[n] ?? 'none'}${i === 0 ? ' (PyTorch)' : ''}`).join(', ');
  console.log(`trainable parameters: ${counts}  ${countsMatch ? 'EQUAL' : 'DIFFERENT'}`);
  const checkOk = printChecks(r.checkTitle, r.losses, result.check, o.checkSteps, r.rule);
  const tfjs = result.tfjs.all;
  const rows: [string, StepTiming][] = [
    ...result.torch.map((r): [string, StepTiming] => [r.label, r.timing]),
    [`tfjs wasm, ${o.kernels}`, tfjs],
    ['  of which before PyTorch', result.tfjs.before],
    ['  of which after PyTorch', result.tfjs.after],
  ];
  printTimings('ms per training step (median after warm-up)', rows);
  const best = result.torch.reduce((a, b) => (a.timing.msPerStep <= b.timing.msPerStep ? a : b));
  return { architecture: r.architecture, tfjs, torch: best, torchOneThread: result.torch[0].timing, checkOk: checkOk && countsMatch };
}

/** Tensor count and RSS over n DCGAN steps: both must stay flat. */
function memoryOverSteps(mnist: MnistData, n: number): boolean {
  const batchSize = 64;
  const generator = buildGenerator();
  const discriminator = buildDiscriminator();
  const trainer = new DcganTrainer(generator, discriminator, { images: mnist.images, count: mnist.count, shape: [28, 28, 1] }, { batchSize });
  const real = tf.tensor4d(mnist.images.subarray(0, batchSize * 784), [batchSize, 28, 28, 1]);
  const noise = seededNoise(2 * batchSize, 100, 5);
  const z = [noise.subarray(0, batchSize * 100), noise.subarray(batchSize * 100)];
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const sample = () => ({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss });
  console.log(`\n== memory over ${n} DCGAN steps (batch ${batchSize}) ==`);
  // The first steps allocate Adam's moments and grow the wasm heap once; flat is measured after them.
  const warm = Math.min(10, Math.max(1, Math.floor(n / 10)));
  for (let i = 0; i < warm; i++) trainer.trainStep([real], z, i);
  const first = sample();
  console.log(`after ${warm} steps: ${first.tensors} tensors, RSS ${mb(first.rss)} MB`);
  let last = first;
  const every = Math.max(1, Math.floor(n / 4));
  for (let i = warm; i < n; i++) {
    trainer.trainStep([real], z, i);
    if ((i + 1) % every === 0 || i === n - 1) {
      last = sample();
      console.log(`after ${i + 1} steps: ${last.tensors} tensors, RSS ${mb(last.rss)} MB`);
    }
  }
  trainer.dispose();
  generator.dispose();
  discriminator.dispose();
  real.dispose();
  // RSS may wander with V8's heap; a leak of one activation per step (>= 0.2 MB) would add 200 MB over 1,000 steps.
  const ok = last.tensors === first.tensors && last.rss - first.rss < 64 * 2 ** 20;
  console.log(
    `memory flat (same tensor count, RSS within 64 MB): ${ok ? 'PASS' : 'FAIL'} (tensors ${first.tensors} -> ${last.tensors}, RSS ${mb(first.rss)} -> ${mb(last.rss)} MB)`,
  );
  return ok;
}

async function main(): Promise<void> {
  const options: Options = {
    batchSize: numberArg('batch-size', 64, 1, 1024),
    steps: numberArg('steps', 20, 2, 1000),
    torchSteps: numberArg('torch-steps', 30, 1, 10_000),
    warmup: numberArg('warmup', 2, 0, 100),
    checkSteps: numberArg('check-steps', 3, 1, 20),
    kernels: '',
  };
  const memorySteps = numberArg('memory-steps', 1000, 0, 100_000);
  const archs = stringArg('arch', ARCHITECTURES.join(',')).split(',');
  for (const a of archs)
    if (!(ARCHITECTURES as readonly string[]).includes(a))
      throw new Error(`--arch: expected a comma list of ${ARCHITECTURES.join(', ')}, got ${JSON.stringify(a)}`);
  ensurePytorch();

  const threads = numberArg('threads', defaultTrainingThreads(), 0, 64);
  const backend = await initBackend({
    order: [stringArg('backend', 'wasm') as BackendName],
    // As training jobs: the native kernels with one thread per core; --threads 0 times wasm's kernels alone.
    ...(threads > 0 ? { nativeThreads: threads } : {}),
  });
  options.kernels = describeKernels(backend);
  console.log(`machine: ${cpuLine()} (before)`);
  console.log(
    `versions: node ${process.version}, tfjs ${tf.version.tfjs} ${backend.name} (ganql kernels: ${backend.customKernels.join(', ') || 'none'}), ${describeKernels(backend)}`,
  );
  const mnist = loadMnist({ split: 'train', limit: Math.max(options.batchSize, 200) });
  const results: Row[] = [];
  for (const arch of archs as Architecture[]) {
    if (arch === 'dcgan') results.push(await benchDcgan(backend.name, mnist, options));
    if (arch === 'kplusone') {
      const report: PeerReport = {
        architecture: 'K+1 MLP, batch 100+100+100',
        title: 'K+1 semi-supervised MLP step (Salimans et al.: batch 100 labelled + 100 unlabelled + 100 generated, feature matching)',
        checkTitle: "same steps without D's noise (sigma 0 in both): tfjs's initial weights, batches and seeded noise",
        losses: GAN_LOSSES,
        rule: { kind: 'first-step', floor: 1 },
      };
      results.push(reportPeerBench(report, runKPlusOneBench(mnist, options), options));
    }
    if (arch === 'mlp-gan') {
      const report: PeerReport = {
        architecture: 'MLP GAN, batch 100',
        title: 'MLP GAN step (Goodfellow et al. 2014: G 100-1200-1200-784, D maxout 240x5 x2 with dropout; batch 100, k=1)',
        checkTitle: "same steps without dropout (rate 0 in both): tfjs's initial weights, real batch and seeded noise",
        losses: GAN_LOSSES,
        rule: { kind: 'every-step' },
      };
      results.push(reportPeerBench(report, runMlpGanBench(mnist, options), options));
    }
    if (arch === 'autoencoder') {
      const report: PeerReport = {
        architecture: 'sparse autoencoder, batch 100',
        title: "sparse autoencoder step (Le et al. 2012 at MNIST scale: an autoencoder training job's networks, input noise and KL sparsity; batch 100)",
        checkTitle: "same steps without the input noise (stddev 0 in both): tfjs's initial weights and batch",
        losses: [
          ['reconstruction', 'MSE'],
          ['sparsity', 'KL'],
        ],
        rule: { kind: 'first-step', floor: 0 },
      };
      results.push(reportPeerBench(report, runAutoencoderBench(mnist, options), options));
    }
  }
  const memoryOk = memorySteps === 0 ? true : memoryOverSteps(mnist, memorySteps);

  console.log(`\nmachine: ${cpuLine()} (after)`);
  console.log(
    `\nsummary: ms per step, ganql (tfjs ${backend.name}, ${options.kernels}) vs PyTorch at its best setting; target ganql <= ${TARGET_RATIO}x PyTorch`,
  );
  const width = Math.max(...results.map((r) => r.architecture.length)) + 2;
  console.log(
    `${'architecture'.padEnd(width)}${'ganql'.padStart(9)}${'PyTorch'.padStart(9)}${'ratio'.padStart(7)}  target  ${'CPU ganql / PyTorch 1 thread'.padStart(30)}  losses`,
  );
  let pass = true;
  for (const r of results) {
    const ratio = r.tfjs.msPerStep / r.torch.timing.msPerStep;
    const hit = ratio <= TARGET_RATIO;
    const cpu =
      r.tfjs.cpuMsPerStep !== undefined && r.torchOneThread.cpuMsPerStep !== undefined
        ? `${r.tfjs.cpuMsPerStep.toFixed(0)} / ${r.torchOneThread.cpuMsPerStep.toFixed(0)} ms = ${(r.tfjs.cpuMsPerStep / r.torchOneThread.cpuMsPerStep).toFixed(2)}`
        : 'n/a';
    console.log(
      `${r.architecture.padEnd(width)}${r.tfjs.msPerStep.toFixed(1).padStart(9)}${r.torch.timing.msPerStep.toFixed(1).padStart(9)}${ratio.toFixed(2).padStart(7)}  ${(hit ? 'PASS' : 'MISS').padEnd(6)}  ${cpu.padStart(30)}  ${r.checkOk ? 'agree' : 'DIFFER'}`,
    );
    pass &&= r.checkOk;
  }
  console.log(`tensors left: ${tf.memory().numTensors}`);
  if (!pass || !memoryOk) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
