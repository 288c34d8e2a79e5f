import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type * as tf from '@tensorflow/tfjs';

/** Training-step benches: timings, the machine line, and the files the PyTorch peers read. */

export interface StepTiming {
  msPerStep: number;
  min: number;
  max: number;
  steps: number;
  /** Median CPU time (user + system) of the process per step: barely changed by other processes on the cores. */
  cpuMsPerStep?: number;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const timingOf = (ms: number[], cpuMs?: number[]): StepTiming => ({
  msPerStep: median(ms),
  min: Math.min(...ms),
  max: Math.max(...ms),
  steps: ms.length,
  ...(cpuMs !== undefined && cpuMs.length > 0 ? { cpuMsPerStep: median(cpuMs) } : {}),
});

/** CPU time (user + system) of this process in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall and CPU ms of each call of `step`. */
export function timeSteps(n: number, step: (i: number) => void): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const startedCpu = cpuMs();
    step(i);
    wall.push(performance.now() - started);
    cpu.push(cpuMs() - startedCpu);
  }
  return { wall, cpu };
}

export function cpuLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  offset: number;
}

/** Every weight of the models (trainable and batchnorm statistics) in one float32 file + its manifest. */
export function exportWeights(models: tf.LayersModel[], file: string): WeightSpec[] {
  const manifest: WeightSpec[] = [];
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

export const writeFloats = (file: string, data: Float32Array | Int32Array): void =>
  writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));

export const countParameters = (model: tf.LayersModel): number => model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
