import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { seededNoise } from '../../src/training/dcgan-trainer';
import { runStepPeers } from './pytorch-peer';
import { countParameters, exportWeights, timeSteps, timingOf, writeFloats, type StepTiming } from './step-timing';

/**
 * What the K+1, MLP GAN and autoencoder step benches share: the folder their PyTorch peer reads
 * (weights, data, config.json), the check steps, tfjs's timed steps half before and half after the
 * peer's runs, and the result bench/train-step.ts reports. Each bench builds its networks and steps.
 */

/** Numbers by name: a step's losses, or each network's trainable parameter count. */
export type Named = Record<string, number>;

export interface PeerRun {
  label: string;
  timing: StepTiming;
}

export interface PeerBenchResult {
  tfjs: { before: StepTiming; after: StepTiming; all: StepTiming };
  torch: PeerRun[];
  check: { tfjs: Named; torch: Named }[];
  counts: { tfjs: Named; torch: Named };
}

export interface PeerBench {
  /** Names the bench in errors and its temporary folder. */
  name: string;
  /** The PyTorch peer, a file of bench/ driven through bench/step_peer.py. */
  script: string;
  /** The timed networks by name (noise or dropout on), exported to weights.bin in this order. */
  timed: Record<string, tf.LayersModel>;
  /** The same networks built for the check (noise or dropout off), exported to check-weights.bin: same layout. */
  checked: Record<string, tf.LayersModel>;
  /** config.json besides the weights' manifest and tfjs's parameter counts. */
  config: { architecture: object; trainer: object; batchSize: number };
  /** Files the peer reads, by name: its batches and, when it has any, the check steps' noise.f32. */
  files: Record<string, Float32Array | Int32Array>;
  /** Check step i on the checked networks: its losses, named as the peer's step names them. */
  checkStep: (i: number) => Named;
  /** Timed step i (warm-up steps first) on the timed networks. */
  timedStep: (i: number) => void;
}

export interface PeerBenchOptions {
  steps: number;
  torchSteps: number;
  warmup: number;
  checkSteps: number;
}

/** Seeded noise of n steps, two batches each (the D step's, then the G step's): the flat array the peer reads and each step's pair. */
export function noiseSteps(batch: number, latentSize: number, seed: number, n: number): { flat: Float32Array; steps: Float32Array[][] } {
  const flat = seededNoise(n * 2 * batch, latentSize, seed);
  const perBatch = batch * latentSize;
  const at = (j: number) => flat.subarray(j * perBatch, (j + 1) * perBatch);
  return { flat, steps: Array.from({ length: n }, (_, i) => [at(2 * i), at(2 * i + 1)]) };
}

const countsOf = (models: Record<string, tf.LayersModel>): Named => Object.fromEntries(Object.entries(models).map(([name, m]) => [name, countParameters(m)]));

/** Runs one bench; the networks stay the caller's to dispose. */
export function runPeerStepBench(bench: PeerBench, options: PeerBenchOptions): PeerBenchResult {
  const counts = countsOf(bench.timed);
  const tmp = mkdtempSync(path.join(os.tmpdir(), `ganql-${bench.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-step-`));
  try {
    const weights = exportWeights(Object.values(bench.timed), path.join(tmp, 'weights.bin'));
    const checkWeights = exportWeights(Object.values(bench.checked), path.join(tmp, 'check-weights.bin'));
    if (JSON.stringify(weights) !== JSON.stringify(checkWeights))
      throw new Error(`${bench.name} bench: expected the check networks to have the timed networks' weight layout, got another`);
    for (const [file, data] of Object.entries(bench.files)) writeFloats(path.join(tmp, file), data);
    writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ ...bench.config, tfjsParameterCounts: counts, weights }));

    const tfjsCheck = Array.from({ length: options.checkSteps }, (_, i) => bench.checkStep(i));
    let next = 0;
    const run = (n: number) => timeSteps(n, () => bench.timedStep(next++));
    run(options.warmup);
    // Half of tfjs's timed steps before PyTorch runs and half after, so a change in the shared machine's load shows on both sides.
    const before = run(Math.floor(options.steps / 2));
    const peers = runStepPeers(path.join(__dirname, '..', bench.script), tmp, options);
    const after = run(Math.ceil(options.steps / 2));
    return {
      tfjs: {
        before: timingOf(before.wall, before.cpu),
        after: timingOf(after.wall, after.cpu),
        all: timingOf([...before.wall, ...after.wall], [...before.cpu, ...after.cpu]),
      },
      torch: peers.map((p) => ({ label: p.label, timing: p.timing })),
      check: tfjsCheck.map((t, i) => ({ tfjs: t, torch: peers[0].check[i] ?? {} })),
      counts: { tfjs: counts, torch: peers[0].parameterCounts },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
