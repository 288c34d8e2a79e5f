/**
 * Where the time of one training step goes on a tfjs backend: the DCGAN step (k = 1, batch 64, Adam)
 * or, with --arch, the K+1 MLP step (batch 100 + 100 + 100), the MLP GAN step or the sparse autoencoder step, as bench/train-step.ts times them: every kernel of the backend is wrapped with a CPU-time clock (self time: a
 * ganql kernel that calls Conv2D inside counts only its own work), keyed by the phase it ran in
 * (forward under the tape, backward, optimizer, untaped) and its kernel name; what is left of the
 * step's wall time is engine overhead (tape, tidy, layers, JS between kernels). --shapes splits
 * each kernel's time by its input shapes.
 *
 *   npx tsx bench/profile-train-step.ts [--steps 10] [--warmup 2] [--batch-size 64] [--backend wasm] [--top 30] [--shapes] [--arch dcgan|kplusone|mlp-gan|autoencoder]
 *
 * Times are CPU time of this process (user + system), which other processes on the cores barely
 * change, unlike wall time; the load average is printed beside them.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { describeKernels, initBackend, type BackendName } from '../src/backend/backend';
import { defaultTrainingThreads } from '../src/config/config';
import { loadMnist } from '../src/data/mnist';
import { buildDiscriminator, buildGenerator, resolveDcganConfig } from '../src/models/dcgan';
import { buildMlpDiscriminator, buildMlpGenerator, resolveMlpGanConfig } from '../src/models/mlp-gan';
import { buildDecoder, buildEncoder } from '../src/models/sparse-autoencoder';
import { autoencoderSetup } from '../src/training/autoencoder-session';
import { AutoencoderTrainer } from '../src/training/autoencoder-trainer';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, defaultKPlusOneFeatureLayer } from '../src/models/kplusone-mlp';
import { initWeightNorm } from '../src/models/layers/weight-norm-dense';
import { DcganTrainer, seededNoise } from '../src/training/dcgan-trainer';
import { KPlusOneTrainer } from '../src/training/kplusone-trainer';
import { numberArg, stringArg } from './lib/cli-args';

/** CPU time (user + system) of this process: unlike wall time, barely changed by other processes on the cores. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Phase = 'forward' | 'backward' | 'optimizer' | 'untaped';

interface Entry {
  calls: number;
  ms: number;
}

/** Self time per "phase kernel" key, and the stack of running kernels' child time. */
class KernelClock {
  readonly entries = new Map<string, Entry>();
  private readonly childMs: number[] = [];
  inOptimizer = false;

  constructor(readonly withShapes: boolean) {}

  phase(): Phase {
    if (this.inOptimizer) return 'optimizer';
    // The engine runs a taped function in tidy('forward') and the gradients in tidy('backward').
    const names = (tf.engine().state as unknown as { scopeStack: { name: string }[] }).scopeStack.map((s) => s.name);
    if (names.includes('backward')) return 'backward';
    if (names.includes('forward')) return 'forward';
    return 'untaped';
  }

  wrap(config: tf.KernelConfig): void {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    // The registry hands out this config object on every call, so replacing its function wraps every use.
    (config as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
      const shapes = this.withShapes
        ? ` ${Object.values(args.inputs)
            .map((t) => `[${t?.shape ?? ''}]`)
            .join(
              ' ',
            )}${args.attrs?.transposeA || args.attrs?.transposeB ? ` tA=${JSON.stringify(args.attrs.transposeA)} tB=${JSON.stringify(args.attrs.transposeB)}` : ''}`
        : '';
      const key = `${this.phase().padEnd(9)} ${name}${shapes}`;
      this.childMs.push(0);
      const started = cpuMs();
      try {
        return inner(args);
      } finally {
        const total = cpuMs() - started;
        const children = this.childMs.pop() ?? 0;
        if (this.childMs.length > 0) this.childMs[this.childMs.length - 1] += total;
        const e = this.entries.get(key) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += total - children;
        this.entries.set(key, e);
      }
    };
  }

  reset(): void {
    this.entries.clear();
  }
}

async function main(): Promise<void> {
  const batchSize = numberArg('batch-size', 64, 1, 1024);
  const steps = numberArg('steps', 10, 1, 1000);
  const warmup = numberArg('warmup', 2, 0, 100);
  const top = numberArg('top', 30, 1, 1000);
  const threads = numberArg('threads', defaultTrainingThreads(), 0, 64);
  const backend = await initBackend({
    order: [stringArg('backend', 'wasm') as BackendName],
    // As training jobs: the native kernels with one thread per core; --threads 0 times wasm's kernels alone.
    ...(threads > 0 ? { nativeThreads: threads } : {}),
  });
  const clock = new KernelClock(process.argv.includes('--shapes'));
  for (const config of tf.getKernelsForBackend(backend.tfBackend)) clock.wrap(config);
  // Adam's updates run outside any taped scope; mark them as the optimizer's.
  const adam = tf.AdamOptimizer.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the original is called below with the optimizer as this
  const applyGradients = adam.applyGradients;
  adam.applyGradients = function (this: tf.AdamOptimizer, grads: Parameters<typeof applyGradients>[0]) {
    clock.inOptimizer = true;
    try {
      applyGradients.call(this, grads);
    } finally {
      clock.inOptimizer = false;
    }
  };

  const arch = stringArg('arch', 'dcgan');
  const setups: Record<string, () => StepSetup> = {
    dcgan: () => dcganStep(batchSize),
    kplusone: kPlusOneStep,
    'mlp-gan': mlpGanStep,
    autoencoder: autoencoderStep,
  };
  const make = setups[arch];
  if (make === undefined) throw new Error(`--arch: expected one of ${Object.keys(setups).join(', ')}, got ${JSON.stringify(arch)}`);
  const setup = make();

  const wall: number[] = [];
  let totalMs = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) clock.reset();
    const started = performance.now();
    const startedCpu = cpuMs();
    setup.step(i);
    if (i >= warmup) {
      wall.push(performance.now() - started);
      totalMs += cpuMs() - startedCpu;
    }
  }
  const wallMs = wall.reduce((a, b) => a + b, 0);
  const kernelMs = [...clock.entries.values()].reduce((a, e) => a + e.ms, 0);
  const perStep = (ms: number) => (ms / steps).toFixed(2).padStart(8);
  const share = (ms: number) => `${((100 * ms) / totalMs).toFixed(1).padStart(5)}%`;

  console.log(
    `machine: ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `${setup.name}, ${backend.name} (ganql kernels: ${backend.customKernels.join(', ') || 'none'}; ${describeKernels(backend)}), ${steps} steps after ${warmup} warm-up`,
  );
  console.log(
    `wall ${(wallMs / steps).toFixed(1)} ms/step (median ${[...wall].sort((a, b) => a - b)[Math.floor(wall.length / 2)].toFixed(1)}); CPU ${(totalMs / steps).toFixed(1)} ms/step, of which kernels ${(kernelMs / steps).toFixed(1)} ms, outside kernels ${((totalMs - kernelMs) / steps).toFixed(1)} ms (${share(totalMs - kernelMs)})`,
  );

  const byPhase = new Map<string, number>();
  for (const [key, e] of clock.entries) {
    const phase = key.slice(0, 9).trim();
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + e.ms);
  }
  console.log('\nper phase (kernel self time)      ms/step  share');
  for (const [phase, ms] of [...byPhase].sort((a, b) => b[1] - a[1])) console.log(`  ${phase.padEnd(30)}${perStep(ms)} ${share(ms)}`);

  console.log(`\nper phase and kernel (top ${top})   calls/step  ms/step  share`);
  const rows = [...clock.entries].sort((a, b) => b[1].ms - a[1].ms);
  const width = Math.max(34, ...rows.slice(0, top).map(([key]) => key.length + 2));
  for (const [key, e] of rows.slice(0, top)) {
    console.log(`  ${key.padEnd(width)}${(e.calls / steps).toFixed(0).padStart(6)}${perStep(e.ms)} ${share(e.ms)}`);
  }
  const rest = rows.slice(top).reduce((a, [, e]) => a + e.ms, 0);
  const restCalls = rows.slice(top).reduce((a, [, e]) => a + e.calls, 0);
  console.log(`  ${'(the other kernels)'.padEnd(width)}${(restCalls / steps).toFixed(0).padStart(6)}${perStep(rest)} ${share(rest)}`);
  const calls = rows.reduce((a, [, e]) => a + e.calls, 0);
  console.log(`kernel calls per step: ${(calls / steps).toFixed(0)}; tensors left: ${tf.memory().numTensors}`);

  setup.dispose();
}

interface StepSetup {
  name: string;
  step: (i: number) => void;
  dispose: () => void;
}

function dcganStep(batchSize: number): StepSetup {
  const architecture = resolveDcganConfig();
  const { latentSize, imageSize: size, channels } = architecture;
  const mnist = loadMnist({ split: 'train', limit: batchSize });
  const real = tf.tensor4d(mnist.images.subarray(0, batchSize * size * size * channels), [batchSize, size, size, channels]);
  const generator = buildGenerator(architecture);
  const discriminator = buildDiscriminator(architecture);
  const data = { images: mnist.images, count: mnist.count, shape: [size, size, channels] as [number, number, number] };
  const trainer = new DcganTrainer(generator, discriminator, data, { batchSize });
  const noise = seededNoise(2 * batchSize, latentSize, 11);
  const z = [noise.subarray(0, batchSize * latentSize), noise.subarray(batchSize * latentSize)];
  return {
    name: `DCGAN step, batch ${batchSize}, k=1`,
    step: () => trainer.trainStep([real], z),
    dispose: () => {
      trainer.dispose();
      generator.dispose();
      discriminator.dispose();
      real.dispose();
    },
  };
}

/** The MLP GAN step as bench/lib/mlp-gan-step.ts times it (dropout on). */
function mlpGanStep(): StepSetup {
  const config = resolveMlpGanConfig();
  const batchSize = 100;
  const { latentSize, imageSize: size } = config;
  const mnist = loadMnist({ split: 'train', limit: batchSize });
  const real = tf.tensor4d(mnist.images.subarray(0, batchSize * size * size), [batchSize, size, size, 1]);
  const generator = buildMlpGenerator(config);
  const discriminator = buildMlpDiscriminator(config);
  const data = { images: mnist.images, count: mnist.count, shape: [size, size, 1] as [number, number, number] };
  const trainer = new DcganTrainer(generator, discriminator, data, { batchSize, learningRate: 0.0002, beta1: 0.5, seed: 1 });
  const noise = seededNoise(2 * batchSize, latentSize, 11);
  const z = [noise.subarray(0, batchSize * latentSize), noise.subarray(batchSize * latentSize)];
  return {
    name: 'MLP GAN step, batch 100, k=1',
    step: (i) => trainer.trainStep([real], z, i),
    dispose: () => {
      trainer.dispose();
      generator.dispose();
      discriminator.dispose();
      real.dispose();
    },
  };
}

/** The sparse autoencoder step as bench/lib/autoencoder-step.ts times it (input noise on). */
function autoencoderStep(): StepSetup {
  const { config, trainer: options } = autoencoderSetup({ batchSize: 100, learningRate: 0.003, beta1: 0.9, latentSize: 16, seed: 42 }, 28);
  const mnist = loadMnist({ split: 'train', limit: options.batchSize });
  const batch = tf.tensor4d(mnist.images.subarray(0, options.batchSize * 784), [options.batchSize, 28, 28, 1]);
  const encoder = buildEncoder(config);
  const decoder = buildDecoder(config);
  const trainer = new AutoencoderTrainer(encoder, decoder, { images: mnist.images, count: mnist.count, shape: [28, 28, 1] }, options);
  return {
    name: 'sparse autoencoder step, batch 100',
    step: (i) => trainer.trainStep(batch, i),
    dispose: () => {
      trainer.dispose();
      encoder.dispose();
      decoder.dispose();
      batch.dispose();
    },
  };
}

/** The K+1 step as bench/lib/kplusone-step.ts times it (noise layers on). */
function kPlusOneStep(): StepSetup {
  const batchSize = 100;
  const mnist = loadMnist({ split: 'train', limit: 2 * batchSize });
  const shape: [number, number, number, number] = [batchSize, 28, 28, 1];
  const labelledImages = mnist.images.subarray(0, batchSize * 784);
  const labelled = { images: tf.tensor4d(labelledImages, shape), labels: tf.tensor1d(new Int32Array(mnist.labels.subarray(0, batchSize)), 'int32') };
  const unlabelled = tf.tensor4d(mnist.images.subarray(batchSize * 784, 2 * batchSize * 784), shape);
  const generator = buildKPlusOneGenerator();
  const discriminator = buildKPlusOneDiscriminator();
  initWeightNorm(discriminator, unlabelled);
  const trainer = new KPlusOneTrainer(
    generator,
    discriminator,
    { images: mnist.images, count: mnist.count, shape: [28, 28, 1] },
    { images: labelledImages, labels: mnist.labels.subarray(0, batchSize), count: batchSize },
    { batchSize, k: 1, seed: 1, learningRate: 0.003, beta1: 0.5, unsupervisedWeight: 0.5, averageRate: 0.005, featureLayer: defaultKPlusOneFeatureLayer() },
  );
  const noise = seededNoise(2 * batchSize, 100, 11);
  const z = [noise.subarray(0, batchSize * 100), noise.subarray(batchSize * 100)];
  return {
    name: 'K+1 MLP step, batch 100+100+100',
    step: (i) => trainer.trainStep([labelled], [unlabelled], z, i),
    dispose: () => {
      trainer.dispose();
      generator.dispose();
      discriminator.dispose();
      tf.dispose([labelled.images, labelled.labels, unlabelled]);
    },
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
