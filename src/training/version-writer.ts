import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, describeKernels } from '../backend/backend';
import type { TrainingData } from '../data/training-data';
import { readManifest, type ModelManifest } from '../models/manifest';
import { OnnxExportError } from '../onnx/onnx-export-error';
import { writeOnnxFile, type OnnxRole } from '../onnx/onnx-file';
import { writeAtomic } from './atomic-write';
import type { SessionOptions } from './session-options';
import type { EpochRecord, SessionTrainer } from './session-trainer';
import type { TrainingSpec } from './training-spec';

/** What a version written by a session is made of; each version adds its label, grid and finish time. */
export interface VersionInput {
  spec: TrainingSpec;
  options: Pick<SessionOptions, 'name' | 'command' | 'fineTuneFrom'>;
  trainer: SessionTrainer;
  /** The training split (its count and image shape are recorded). */
  data: Pick<TrainingData, 'count' | 'shape'>;
  records: EpochRecord[];
  version: string;
  /** performance.now() of the run's start (resumes included). */
  started: number;
  samplesPng: Buffer;
  finishedAt?: Date;
}

/** "2026-11-27T04-42": the default version label. */
export function timeLabel(date: Date): string {
  return date.toISOString().slice(0, 16).replace(':', '-');
}

/**
 * Writes a servable version folder: the mode's served networks, the ONNX files of its generator and
 * classifier (those it has), samples.png, history.json (the epochs' records), manifest.json (last).
 */
export async function writeVersion(dir: string, v: VersionInput): Promise<ModelManifest> {
  const { spec, data, records } = v;
  await fs.mkdir(dir, { recursive: true });
  const { architecture, latentSize, architectureConfig, ...paths } = await v.trainer.saveServed(dir);
  if (paths.generatorPath !== undefined) await writeOnnx(path.join(dir, paths.generatorPath), 'generator');
  if (paths.classifier !== undefined) await writeOnnx(path.join(dir, paths.classifier.path), 'classifier');
  await writeAtomic(path.join(dir, 'samples.png'), v.samplesPng);
  await writeAtomic(path.join(dir, HISTORY_FILE), `${JSON.stringify(historyOf(records), null, 1)}\n`);
  const last = records[records.length - 1];
  const finishedAt = v.finishedAt ?? new Date();
  const manifest: ModelManifest = {
    formatVersion: 1,
    name: v.options.name,
    version: v.version,
    architecture,
    dataset: spec.dataset,
    // A model without a generator (supervised mode) has no latent size.
    ...(latentSize !== undefined ? { latentSize } : {}),
    imageShape: data.shape,
    outputRange: [-1, 1],
    ...paths,
    training: provenance(v, last, finishedAt, architectureConfig),
  };
  await writeAtomic(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * The network's ONNX file, which ONNX Runtime serves (checked against tfjs when the version loads). A
 * network with a layer the exporter does not write gets none: it is served on tfjs, and the server
 * says why when it loads the version.
 */
async function writeOnnx(networkDir: string, role: OnnxRole): Promise<void> {
  try {
    await writeOnnxFile(networkDir, role);
  } catch (error) {
    if (!(error instanceof OnnxExportError)) throw error;
  }
}

/** The manifest's training record: what every version states about how it was made; its metrics are the last epoch's. */
function provenance(
  v: VersionInput,
  last: EpochRecord,
  finishedAt: Date,
  architectureConfig: ModelManifest['training']['architectureConfig'],
): ModelManifest['training'] {
  const { spec } = v;
  const { losses, seconds: _seconds, ...metrics } = last;
  return {
    seed: spec.seed,
    epochs: v.records.length,
    batchSize: spec.batchSize,
    learningRate: spec.learningRate,
    beta1: spec.beta1,
    examples: v.data.count,
    command: v.options.command,
    ...(v.options.fineTuneFrom !== undefined ? { fineTuneFrom: versionIdOf(v.options.fineTuneFrom) } : {}),
    backend: tf.getBackend(),
    kernels: kernelsInUse(),
    finalLosses: losses,
    durationSeconds: Math.round((performance.now() - v.started) / 1000),
    finishedAt: finishedAt.toISOString(),
    architectureConfig,
    // Only the metrics the epoch measured are there, each a number.
    metrics: metrics,
  };
}

/** The model id of the version folder a run fine-tuned from (its manifest's "<name>@<version>"), for the manifest's provenance. */
function versionIdOf(dir: string): string {
  const parent = readManifest(dir);
  return `${parent.name}@${parent.version}`;
}

/** The file of a version folder that holds its run's per-epoch records (learning curves). */
export const HISTORY_FILE = 'history.json';

/** One line of history.json: an epoch's mean losses, held-out metrics and wall seconds. */
export type HistoryEntry = { epoch: number } & EpochRecord;

function historyOf(records: readonly EpochRecord[]): HistoryEntry[] {
  return records.map((r, i) => ({ epoch: i + 1, ...r }));
}

/** The kernels the run trained on, as the training log names them ("native avx512, 2 threads"); the backend name when unknown. */
function kernelsInUse(): string {
  const info = activeBackend();
  return info !== undefined ? describeKernels(info) : tf.getBackend();
}
