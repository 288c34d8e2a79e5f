/**
 * Writes ganql's exact training data to files the PyTorch reference reads: the train and test splits
 * from loadTrainingData (pixels mapped back from [-1, 1] to [0, 1]) and, for each seed, the labelled
 * indices selectLabelled picks, so both implementations train on the same digits and the same labels.
 *
 *   npx tsx reference/export-split.ts --dataset mnist --out reference/.cache --labels-per-class 10 --seeds 1,2,3
 *
 * Files: <dataset>-<split>-images.f32 (N*784 float32, little-endian), <dataset>-<split>-labels.u8,
 * <dataset>-<split>.json ({ count, shape }), <dataset>-labelled-<perClass>-seed<seed>.json ({ indices }).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTrainingData, type DatasetName } from '../src/data/training-data';
import { selectLabelled } from '../src/training/labelled-examples';

interface ExportOptions {
  dataset: DatasetName;
  out: string;
  labelsPerClass: number[];
  seeds: number[];
}

function parseIntList(flag: string, value: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0))
    throw new Error(`--${flag}: expected comma-separated non-negative integers, got ${JSON.stringify(value)}`);
  return list;
}

function parseArgs(argv: string[]): ExportOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (!key.startsWith('--') || value === undefined) throw new Error(`Expected --flag value pairs, got ${JSON.stringify(argv.slice(i))}`);
    flags.set(key.slice(2), value);
  }
  const dataset = flags.get('dataset') ?? 'mnist';
  if (dataset !== 'mnist' && dataset !== 'fashion-mnist') throw new Error(`--dataset: expected mnist or fashion-mnist, got ${JSON.stringify(dataset)}`);
  return {
    dataset,
    out: flags.get('out') ?? path.join(__dirname, '.cache'),
    labelsPerClass: parseIntList('labels-per-class', flags.get('labels-per-class') ?? '10'),
    seeds: parseIntList('seeds', flags.get('seeds') ?? '1'),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  fs.mkdirSync(options.out, { recursive: true });
  for (const split of ['train', 'test'] as const) {
    const data = await loadTrainingData(options.dataset, split);
    // The released code feeds pixels in [0, 1]; ganql's loaders give [-1, 1].
    const unit = new Float32Array(data.images.length);
    for (let i = 0; i < unit.length; i++) unit[i] = (data.images[i] + 1) / 2;
    const base = path.join(options.out, `${options.dataset}-${split}`);
    fs.writeFileSync(`${base}-images.f32`, Buffer.from(unit.buffer));
    fs.writeFileSync(`${base}-labels.u8`, Buffer.from(data.labels.buffer, data.labels.byteOffset, data.labels.byteLength));
    fs.writeFileSync(`${base}.json`, JSON.stringify({ count: data.count, shape: data.shape }));
    if (split === 'train') {
      for (const perClass of options.labelsPerClass) {
        for (const seed of options.seeds) {
          const indices = selectLabelled(data.labels, data.classes.length, perClass, seed);
          const file = path.join(options.out, `${options.dataset}-labelled-${perClass}-seed${seed}.json`);
          fs.writeFileSync(file, JSON.stringify({ perClass, seed, indices: Array.from(indices) }));
        }
      }
    }
    console.log(`${options.dataset} ${split}: ${data.count} images -> ${base}-*`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
