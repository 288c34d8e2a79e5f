import { createPrng, shuffledIndices } from '../data/prng';
import type { TrainingData } from '../data/training-data';
import { badInput } from '../errors/ganql-error';
import type { LabelledRows } from './classifier-evaluation';

export interface Stacked {
  withLabels(labels: Uint8Array): LabelledRows;
}

/** Rows of one width as one buffer (what the classifier worker takes). */
export function stacked(rows: readonly Float32Array[]): Stacked {
  const width = rows[0]?.length ?? 0;
  const features = new Float32Array(rows.length * width);
  rows.forEach((row, i) => features.set(row, i * width));
  return { withLabels: (labels) => ({ features, width, labels }) };
}

/** `perClass` indices of each class of the split, seeded, classes in label order. */
export function labelledChoice(data: TrainingData, perClass: number, seed: number): Uint32Array {
  const order = shuffledIndices(data.count, createPrng(seed));
  const taken = new Array<number>(data.classes.length).fill(0);
  const chosen: number[] = [];
  for (const i of order) {
    const label = data.labels[i];
    if (taken[label] < perClass) {
      taken[label]++;
      chosen.push(i);
    }
  }
  const short = taken.findIndex((t) => t < perClass);
  if (short >= 0) throw badInput(`labelsPerClass: expected at most ${taken[short]} (the examples of class ${data.classes[short]}), got ${perClass}`);
  return Uint32Array.from(chosen.sort((a, b) => data.labels[a] - data.labels[b] || a - b));
}
