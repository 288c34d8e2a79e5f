import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { describeKernels, initBackend } from '../../backend/backend';
import { isGanqlError } from '../../errors/ganql-error';
import { UnreachableCaseError } from '../../errors/unreachable';
import { runTrainingSession } from '../../training/training-session';
import type { TrainingWorkerMessage, TrainingWorkerSetup } from './messages';

/**
 * One training job on a worker thread of its own, with its own tfjs backend: runs the training
 * session and posts its steps (throttled), epochs, kept versions and end to the main thread, which
 * records them. The main thread stops it through the shared stop flag.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('training.worker: expected to run in a worker thread, got the main thread');
  // Built by TrainingWorker from a checked job.
  const setup = workerData as TrainingWorkerSetup;
  const post = (message: TrainingWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  const stop = new Int32Array(setup.stopFlag);
  try {
    const backend = await initBackend({ order: setup.backendOrder, ...(setup.threads > 0 ? { nativeThreads: setup.threads } : {}) });
    post({ type: 'started', backend: backend.name, kernels: describeKernels(backend) });
    let lastStepAt = -Infinity;
    const lastEpoch = setup.spec.epochs;
    const result = await runTrainingSession(setup.spec, {
      outDir: setup.outDir,
      name: setup.name,
      version: setup.version,
      command: setup.command,
      resume: setup.resume,
      scorersDir: setup.scorersDir,
      ...(setup.fineTuneFrom !== undefined ? { fineTuneFrom: setup.fineTuneFrom } : {}),
      // The final epoch's model is the job's own version; keeping it as well would only duplicate it.
      keepDir: (epoch) => (epoch < lastEpoch ? path.join(setup.keepRoot, `${setup.keepPrefix}-epoch-${String(epoch).padStart(3, '0')}`) : undefined),
      shouldStop: () => Atomics.load(stop, 0) !== 0,
      onStep: (e) => {
        const now = performance.now();
        // The last step of an epoch always goes out, so a watcher sees each epoch reach its end.
        if (now - lastStepAt < setup.stepIntervalMs && e.step !== e.stepsPerEpoch) return;
        lastStepAt = now;
        post({
          type: 'step',
          epoch: e.epoch,
          step: e.step,
          stepsPerEpoch: e.stepsPerEpoch,
          generatorLoss: e.losses.generator,
          discriminatorLoss: e.losses.discriminator,
          imagesPerSecond: e.imagesPerSecond,
        });
      },
      onEpoch: (e) => {
        // A copy of its own, so the buffer can move to the main thread.
        const png = new Uint8Array(e.samplesPng);
        post(
          {
            type: 'epoch',
            epochs: e.epochs,
            epoch: {
              epoch: e.epoch,
              generatorLoss: e.losses.generator,
              discriminatorLoss: e.losses.discriminator,
              dAccuracyReal: e.dAccuracyReal,
              dAccuracyFake: e.dAccuracyFake,
              testError: e.testError ?? null,
              seconds: e.seconds,
              imagesPerSecond: e.imagesPerSecond,
              inceptionScore: e.inceptionScore ?? null,
              inceptionScoreStd: e.inceptionScoreStd ?? null,
              fid: e.fid ?? null,
              samplesPng: png,
            },
          },
          [png.buffer],
        );
      },
      onKeep: (dir, manifest) => {
        const epoch = Number(/-epoch-(\d+)$/.exec(dir)?.[1]);
        post({ type: 'kept', epoch, dir, manifest });
      },
    });
    switch (result.status) {
      case 'finished':
        post({ type: 'finished', dir: result.dir, manifest: result.manifest });
        return;
      case 'stopped':
        post({ type: 'stopped', completedEpochs: result.completedEpochs });
        return;
      default:
        throw new UnreachableCaseError(result);
    }
  } catch (error) {
    post({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
      ...(isGanqlError(error) ? { code: error.code } : {}),
      ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
    });
  }
}

void main();
