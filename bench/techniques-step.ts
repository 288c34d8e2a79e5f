/**
 * ms per DCGAN training step (k = 1, the default ganql DCGAN) with each of Salimans et al.'s
 * switches on, beside the plain step, from one run on one backend, printed as ratios.
 *
 *   npx tsx bench/techniques-step.ts [--batch-size 64] [--steps 5] [--backend wasm]
 *
 * The configurations take turns, one step each; the first round (Adam moment variables,
 * kernel warm-up) is not timed.
 */
import * as tf from '@tensorflow/tfjs';
import { describeKernels, initBackend, type BackendName } from '../src/backend/backend';
import { defaultTrainingThreads } from '../src/config/config';
import { loadMnist } from '../src/data/mnist';
import { buildDiscriminator, buildGenerator } from '../src/models/dcgan';
import { DcganTrainer, type DcganTrainerOptions } from '../src/training/dcgan-trainer';
import { numberArg, stringArg } from './lib/cli-args';

const MBD = { kernels: 50, kernelDim: 5 };

const VBN = { referenceSize: 32 };

const configurations: { name: string; options: Partial<DcganTrainerOptions> }[] = [
  { name: 'plain', options: {} },
  { name: 'label smoothing 0.9', options: { labelSmoothing: 0.9 } },
  { name: 'feature matching (d_flatten)', options: { featureMatching: { layer: 'd_flatten' } } },
  { name: 'historical averaging', options: { historicalAveraging: { weight: 0.01 } } },
  { name: `minibatch discrimination ${MBD.kernels}x${MBD.kernelDim}`, options: { minibatchDiscrimination: MBD } },
  { name: `virtual batch norm (reference ${VBN.referenceSize})`, options: { virtualBatchNorm: VBN } },
];

async function main(): Promise<void> {
  const batchSize = numberArg('batch-size', 64, 1, 1024);
  const steps = numberArg('steps', 5, 1, 1000);
  const threads = numberArg('threads', defaultTrainingThreads(), 0, 64);
  const backend = await initBackend({
    order: [stringArg('backend', 'wasm') as BackendName],
    // As training jobs: the native kernels with one thread per core; --threads 0 times wasm's kernels alone.
    ...(threads > 0 ? { nativeThreads: threads } : {}),
  });
  const data = loadMnist({ split: 'train', limit: batchSize });
  console.log(`backend ${backend.name} (${describeKernels(backend)}), batch ${batchSize}, median of ${steps} timed steps per configuration, interleaved`);
  const runs = configurations.map(({ name, options }) => {
    const g = buildGenerator({}, { virtualBatchNorm: options.virtualBatchNorm });
    const d = buildDiscriminator({}, { minibatchDiscrimination: options.minibatchDiscrimination });
    const trainer = new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize, seed: 1, ...options });
    return { name, g, d, trainer, times: [] as number[] };
  });
  // Round-robin, one step each, so drift in the machine's speed hits every configuration alike.
  for (let round = 0; round <= steps; round++) {
    for (const r of runs) await r.trainer.trainEpoch(round, (p) => round > 0 && r.times.push(p.msPerStep), 1);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const plainMs = median(runs[0].times);
  for (const r of runs) {
    const ms = median(r.times);
    console.log(
      `${r.name.padEnd(36)} ${ms.toFixed(0).padStart(6)} ms/step  x${(ms / plainMs).toFixed(2)} of plain  (min ${Math.min(...r.times).toFixed(0)}, max ${Math.max(...r.times).toFixed(0)})`,
    );
    r.trainer.dispose();
    r.g.dispose();
    r.d.dispose();
  }
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
