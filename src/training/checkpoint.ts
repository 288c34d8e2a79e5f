import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { badInput } from '../errors/ganql-error';
import { copyWeights } from '../models/copy-weights';
import { saveLayersModel } from '../models/io';
import { writeAtomic } from './atomic-write';
import type { EpochRecord, NamedTensor, SessionTrainer } from './session-trainer';
import type { TrainingSpec } from './training-spec';

/**
 * The one checkpoint format of every mode: checkpoint/<network>/ for each of the trainer's networks,
 * state.bin (optimizer moments, running means) and state.json (spec, epoch records, elapsed time, the
 * mode's optimizer records, the tf.io specs of state.bin), written last.
 */
interface CheckpointFile {
  spec: TrainingSpec;
  completedEpochs: number;
  epochs: EpochRecord[];
  elapsedSeconds: number;
  tensorSpecs: tf.io.WeightsManifestEntry[];
  /** The mode's fields (TrainerState.fields). */
  [field: string]: unknown;
}

/** What a resumed run continues from. */
export interface ResumedCheckpoint {
  /** The records of the completed epochs. */
  records: EpochRecord[];
  elapsedSeconds: number;
}

/** The checkpoint folder of a session writing the version `outDir`. */
export function checkpointFolder(outDir: string): string {
  return path.join(outDir, 'checkpoint');
}

/** Where a complete checkpoint may be, newest first: checkpoint, or checkpoint.next / checkpoint.old left by a crash mid-swap. */
export function checkpointCandidates(dir: string): string[] {
  return [dir, `${dir}.next`, `${dir}.old`];
}

/** Writes checkpoint.next completely, then swaps it in for checkpoint (state.json last: its presence marks a whole checkpoint). */
export async function saveCheckpoint(dir: string, trainer: SessionTrainer, spec: TrainingSpec, records: EpochRecord[], elapsedSeconds: number): Promise<void> {
  await swapInCheckpoint(dir, async (next) => {
    for (const [name, model] of Object.entries(trainer.networks)) await saveLayersModel(model, path.join(next, name));
    const state = await trainer.checkpointState();
    const encoded = await tf.io.encodeWeights(state.tensors).finally(() => tf.dispose(state.fresh));
    const file: CheckpointFile = { spec, completedEpochs: records.length, epochs: records, elapsedSeconds, ...state.fields, tensorSpecs: encoded.specs };
    await writeAtomic(path.join(next, 'state.bin'), Buffer.from(encoded.data));
    await writeAtomic(path.join(next, 'state.json'), `${JSON.stringify(file, null, 2)}\n`);
  });
}

/** Restores the trainer's networks, optimizers and running means from the newest complete checkpoint in `dir`; returns where the run was. */
export async function loadCheckpoint(dir: string, spec: TrainingSpec, trainer: SessionTrainer): Promise<ResumedCheckpoint> {
  const found = await findCheckpoint(dir);
  if (found === undefined) throw badInput(`resume: expected a checkpoint in ${dir} (state.json), got none`);
  // Written by saveCheckpoint.
  const file = JSON.parse(await fs.readFile(path.join(found, 'state.json'), 'utf8')) as CheckpointFile;
  const { spec: saved, completedEpochs, epochs, elapsedSeconds, tensorSpecs, ...fields } = file;
  checkResumedSpec(saved, completedEpochs, spec);
  for (const [name, model] of Object.entries(trainer.networks)) await copyWeights(path.join(found, name), model, 'resume');
  const bytes = await fs.readFile(path.join(found, 'state.bin'));
  const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), tensorSpecs);
  try {
    await trainer.restoreState(fields, tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { records: epochs.slice(0, completedEpochs), elapsedSeconds };
}

/** Has `fill` write checkpoint.next completely (state.json last), then swaps it in for checkpoint. */
async function swapInCheckpoint(dir: string, fill: (next: string) => Promise<void>): Promise<void> {
  const next = `${dir}.next`;
  await fs.rm(next, { recursive: true, force: true });
  await fs.mkdir(next, { recursive: true });
  await fill(next);
  const old = `${dir}.old`;
  await fs.rm(old, { recursive: true, force: true });
  if (await exists(dir)) await fs.rename(dir, old);
  await fs.rename(next, dir);
  await fs.rm(old, { recursive: true, force: true });
}

async function findCheckpoint(dir: string): Promise<string | undefined> {
  for (const candidate of checkpointCandidates(dir)) {
    if (await exists(path.join(candidate, 'state.json'))) return candidate;
  }
  return undefined;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Fields of the spec a resumed run may change: how long it runs, what it keeps and how often it is scored (none changes the weights). */
const RESUMABLE_CHANGES = new Set(['epochs', 'keepEvery', 'evalEvery', 'evalSamples']);

/** A resumed run may change only RESUMABLE_CHANGES, and must run at least the epochs already done. */
function checkResumedSpec(saved: TrainingSpec, completedEpochs: number, spec: TrainingSpec): void {
  const keys = new Set([...Object.keys(spec), ...Object.keys(saved)]);
  for (const key of keys) {
    if (RESUMABLE_CHANGES.has(key)) continue;
    const was = JSON.stringify((saved as unknown as Record<string, unknown>)[key]);
    const now = JSON.stringify((spec as unknown as Record<string, unknown>)[key]);
    if (was !== now) throw badInput(`resume: expected ${key} ${was ?? 'absent'} as in the checkpoint, got ${now ?? 'absent'}`);
  }
  if (completedEpochs > spec.epochs) throw badInput(`epochs: expected at least the ${completedEpochs} epochs the checkpoint has done, got ${spec.epochs}`);
}

// ---- Adam -----------------------------------------------------------------------------------

/** An Adam optimizer in state.json: how many tensors it has in state.bin, and its beta powers bit-exact. */
export interface OptimizerRecord {
  weights: number;
  accBeta1: number;
  accBeta2: number;
}

/** Adam's beta powers are private fields; they are read and set here so a resumed run repeats bit for bit. */
interface AdamBetaPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function betaPowers(o: tf.AdamOptimizer): AdamBetaPowers {
  // tfjs 4.22's AdamOptimizer keeps accBeta1/accBeta2 as scalar variables (adam_optimizer.js).
  return o as unknown as AdamBetaPowers;
}

/** An Adam optimizer's part of TrainerState: its tensors named `<prefix>/<i>` and its record. */
export async function adamState(o: tf.AdamOptimizer, prefix: string): Promise<{ record: OptimizerRecord; tensors: NamedTensor[]; fresh: tf.Tensor[] }> {
  const weights = await o.getWeights();
  // Adam's iteration scalar is a fresh tensor; its moments are live variables.
  const fresh = weights.length > 0 ? [weights[0].tensor] : [];
  const record: OptimizerRecord = { weights: weights.length, accBeta1: betaPowers(o).accBeta1.dataSync()[0], accBeta2: betaPowers(o).accBeta2.dataSync()[0] };
  return { record, tensors: weights.map((w, i) => ({ name: `${prefix}/${i}`, tensor: w.tensor })), fresh };
}

/** Sets an Adam optimizer back to what adamState saved. */
export async function restoreAdam(o: tf.AdamOptimizer, prefix: string, record: OptimizerRecord, tensors: tf.NamedTensorMap): Promise<void> {
  const weights = Array.from({ length: record.weights }, (_, i) => ({ name: `${prefix}/${i}`, tensor: tensors[`${prefix}/${i}`] }));
  if (weights.length > 0) await o.setWeights(weights);
  tf.tidy(() => {
    betaPowers(o).accBeta1.assign(tf.scalar(record.accBeta1));
    betaPowers(o).accBeta2.assign(tf.scalar(record.accBeta2));
  });
}

/** The tensors named `<prefix>/0`, `<prefix>/1`, ... in index order (running means). */
export function tensorsNamed(tensors: tf.NamedTensorMap, prefix: string): tf.Tensor[] {
  const start = prefix.length + 1;
  return Object.keys(tensors)
    .filter((k) => k.startsWith(`${prefix}/`))
    .sort((a, b) => Number(a.slice(start)) - Number(b.slice(start)))
    .map((k) => tensors[k]);
}
