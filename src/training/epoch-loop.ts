import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TrainingData } from '../data/training-data';
import { writeAtomic } from './atomic-write';
import { checkpointFolder, loadCheckpoint, saveCheckpoint, type ResumedCheckpoint } from './checkpoint';
import type { SessionOptions, SessionResult } from './session-options';
import type { EpochRecord, SessionTrainer } from './session-trainer';
import type { TrainingSpec } from './training-spec';
import { timeLabel, writeVersion } from './version-writer';

/**
 * The epoch loop of every mode: trains each epoch left (stopping between steps on shouldStop), then
 * measures it, writes its grid, checkpoints it, reports it and keeps a version when spec.keepEvery
 * says so; at the end writes the version folder options.outDir and drops the checkpoint.
 * With options.resume it first restores the trainer from options.outDir's checkpoint and goes on
 * after its last epoch.
 */
export async function runEpochs(
  trainer: SessionTrainer,
  spec: TrainingSpec,
  data: Pick<TrainingData, 'count' | 'shape'>,
  options: SessionOptions,
): Promise<SessionResult> {
  const log = options.log ?? (() => undefined);
  const outDir = path.resolve(options.outDir);
  const checkpointDir = checkpointFolder(outDir);
  let resumed: ResumedCheckpoint | undefined;
  if (options.resume) {
    resumed = await loadCheckpoint(checkpointDir, spec, trainer);
    log(`resuming after epoch ${resumed.records.length} of ${spec.epochs}`);
  }
  const records: EpochRecord[] = resumed?.records ?? [];
  const started = performance.now() - (resumed?.elapsedSeconds ?? 0) * 1000;
  await fs.mkdir(path.join(outDir, 'samples'), { recursive: true });
  if (resumed === undefined) await saveCheckpoint(checkpointDir, trainer, spec, records, 0);
  // What every version written by this run shares; each adds its label, grid and finish time.
  const common = { spec, options, trainer, data, records, started };

  const stop = options.shouldStop ?? (() => false);
  for (let epoch = records.length; epoch < spec.epochs; epoch++) {
    const epochStarted = performance.now();
    const trained = await trainer.trainEpoch(
      epoch,
      (e) => options.onStep?.({ ...e, imagesPerSecond: imagesPerSecond(trainer.imagesPerStep(), e.msPerStep) }),
      stop,
    );
    // The epoch's mean throughput: its training alone, before evaluation and checkpoint.
    const epochImagesPerSecond = imagesPerSecond(trained.steps * trainer.imagesPerStep(), performance.now() - epochStarted);
    if (trained.steps < trainer.stepsPerEpoch()) {
      log(`stopped during epoch ${epoch + 1}: keeping the checkpoint of epoch ${records.length}`);
      return { status: 'stopped', completedEpochs: records.length };
    }
    const metrics = { ...trained.metrics, ...(await trainer.heldOutMetrics(epoch + 1)) };
    const samplesPng = trainer.samplesPng();
    const label = String(epoch + 1).padStart(3, '0');
    await writeAtomic(path.join(outDir, 'samples', `epoch-${label}.png`), samplesPng);
    const record: EpochRecord = { losses: trained.losses, ...metrics, seconds: 0 };
    records.push(record);
    // The checkpoint holds the seconds up to it; the event and the log count the checkpoint too.
    record.seconds = (performance.now() - epochStarted) / 1000;
    await saveCheckpoint(checkpointDir, trainer, spec, records, (performance.now() - started) / 1000);
    record.seconds = (performance.now() - epochStarted) / 1000;
    log(
      `epoch ${epoch + 1} done: ${trainer.describe(record)}, ${record.seconds.toFixed(1)} s, ${epochImagesPerSecond.toFixed(1)} images/s, tensors ${tf.memory().numTensors}`,
    );
    // A mode without a discriminator reports its accuracies as 0.
    await options.onEpoch?.({
      epoch: epoch + 1,
      epochs: spec.epochs,
      dAccuracyReal: 0,
      dAccuracyFake: 0,
      ...record,
      imagesPerSecond: epochImagesPerSecond,
      samplesPng,
    });
    const keep = spec.keepEvery !== undefined && (epoch + 1) % spec.keepEvery === 0 ? options.keepDir?.(epoch + 1) : undefined;
    if (keep !== undefined) {
      const manifest = await writeVersion(path.resolve(keep), { ...common, version: `${options.version ?? timeLabel(new Date())}-epoch-${label}`, samplesPng });
      await options.onKeep?.(path.resolve(keep), manifest);
    }
  }

  const finishedAt = new Date();
  const manifest = await writeVersion(outDir, { ...common, version: options.version ?? timeLabel(finishedAt), samplesPng: trainer.samplesPng(), finishedAt });
  // The final models are the last checkpoint's; keep the version folder small.
  await fs.rm(checkpointDir, { recursive: true, force: true });
  return { status: 'finished', dir: outDir, manifest };
}

/** Images over the milliseconds they took; a step too short for the clock counts as 1 µs, so the figure stays finite. */
function imagesPerSecond(images: number, ms: number): number {
  return images / (Math.max(ms, 1e-3) / 1000);
}
