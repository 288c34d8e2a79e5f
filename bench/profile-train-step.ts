/**
 * Where the time of a DCGAN training step goes: tf.profile over a few steps of DcganTrainer on
 * MNIST, kernel times summed by kernel name and input shapes, the largest first. Use it to find
 * the kernel worth a faster implementation (as the transposed-convolution and filter-gradient
 * kernels were found).
 *
 *   npx tsx bench/profile-train-step.ts [--steps 1] [--warmup 2] [--top 25] [--batch-size 64]
 *     [--generator-filters 32] [--discriminator-filters 32] [--backend wasm]
 *
 * Prints the parameter counts, the total kernel time, then one line per kernel and shape:
 * milliseconds, calls, name and input shapes. Kernel times are what the backend reports; an op and
 * the kernel it runs may both be listed (fusedConv2d__op and FusedConv2D), so the total can exceed
 * the wall time: compare lines, not the sum.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/backend/backend';
import { loadMnist } from '../src/data/mnist';
import { buildDiscriminator, buildGenerator } from '../src/models/dcgan';
import { DcganTrainer } from '../src/training/dcgan-trainer';
import { numberArg, stringArg } from './lib/cli-args';

interface KernelTotal {
  ms: number;
  calls: number;
}

async function main(): Promise<void> {
  const steps = numberArg('steps', 1, 1, 100);
  const warmup = numberArg('warmup', 2, 0, 100);
  const top = numberArg('top', 25, 1, 1000);
  const batchSize = numberArg('batch-size', 64, 1, 1024);
  const generatorFilters = numberArg('generator-filters', 32, 1, 1024);
  const discriminatorFilters = numberArg('discriminator-filters', 32, 1, 1024);
  // The bench names one backend; initBackend reports a wrong name with the list it accepts.
  const backend = stringArg('backend', 'wasm') as BackendName;
  await initBackend({ order: [backend] });

  const generator = buildGenerator({ generatorFilters });
  const discriminator = buildDiscriminator({ discriminatorFilters });
  console.log(`backend ${tf.getBackend()}, parameters G ${generator.countParams()}, D ${discriminator.countParams()}, batch ${batchSize}`);
  const mnist = loadMnist({ split: 'train', limit: batchSize * (warmup + steps + 1) });
  const trainer = new DcganTrainer(generator, discriminator, { images: mnist.images, count: mnist.count, shape: [28, 28, 1] }, { batchSize });
  try {
    if (warmup > 0) await trainer.trainEpoch(0, undefined, warmup);
    const started = performance.now();
    const profile = await tf.profile(async () => {
      await trainer.trainEpoch(1, undefined, steps);
    });
    const wallMs = performance.now() - started;

    const totals = new Map<string, KernelTotal>();
    for (const kernel of profile.kernels) {
      const key = `${kernel.name} ${JSON.stringify(kernel.inputShapes)}`;
      const total = totals.get(key) ?? { ms: 0, calls: 0 };
      // kernelTimeMs is a number, or an { error } object on backends that cannot time kernels.
      total.ms += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
      total.calls++;
      totals.set(key, total);
    }
    const kernelMs = [...totals.values()].reduce((sum, t) => sum + t.ms, 0);
    console.log(`${steps} step(s): wall ${wallMs.toFixed(0)} ms (profiling included), kernels ${kernelMs.toFixed(0)} ms`);
    console.log('ms\tcalls\tkernel and input shapes');
    for (const [key, total] of [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
      console.log(`${total.ms.toFixed(1)}\t${total.calls}\t${key}`);
    }
  } finally {
    trainer.dispose();
    generator.dispose();
    discriminator.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
