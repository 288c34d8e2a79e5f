import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerLaunch } from '../workers/worker-script';
import type { TrainingWorkerMessage, TrainingWorkerSetup } from './worker/messages';

/** The messages that end a worker's stream. */
export type TrainingWorkerEnd = Extract<TrainingWorkerMessage, { type: 'finished' | 'stopped' | 'failed' }>;

function isEnd(message: TrainingWorkerMessage): message is TrainingWorkerEnd {
  return message.type === 'finished' || message.type === 'stopped' || message.type === 'failed';
}

/**
 * One training job's worker thread, seen from the main thread: relays its messages in order,
 * exactly one of them an end (a worker that dies without one ends with a synthesised `failed`),
 * and stops it through shared memory, since its training loop never yields to its event loop.
 */
export class TrainingWorker {
  private readonly worker: Worker;
  private readonly stopFlag: Int32Array;
  private ended = false;
  private lastError: string | undefined;

  constructor(
    setup: Omit<TrainingWorkerSetup, 'entry' | 'stopFlag'>,
    private readonly onMessage: (message: TrainingWorkerMessage) => void,
  ) {
    const { script, entry, execArgv } = workerLaunch(path.join(__dirname, 'worker', 'training.worker'));
    const stopFlag = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.stopFlag = new Int32Array(stopFlag);
    const data: TrainingWorkerSetup = { ...setup, entry, stopFlag };
    this.worker = new Worker(script, { workerData: data, execArgv });
    this.worker.on('message', (message: TrainingWorkerMessage) => this.relay(message));
    this.worker.on('error', (error: Error) => {
      this.lastError = `${error.name}: ${error.message}`;
    });
    this.worker.on('exit', (code: number) => {
      this.relay({
        type: 'failed',
        message: `the training worker ${this.lastError !== undefined ? `crashed (${this.lastError})` : `exited with code ${code}`} before the job ended`,
      });
    });
  }

  /** Asks the session to stop after its current step (at its last checkpoint); it then posts `stopped` (or `finished`, if it was done). */
  requestStop(): void {
    Atomics.store(this.stopFlag, 0, 1);
  }

  /** Ends the thread at once (after its end message, or when it does not stop in time). */
  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private relay(message: TrainingWorkerMessage): void {
    if (this.ended) return;
    if (isEnd(message)) {
      this.ended = true;
      // The thread has nothing left to do; ending it frees its backend's memory now.
      void this.worker.terminate();
    }
    this.onMessage(message);
  }
}
