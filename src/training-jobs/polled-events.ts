import { isFinalState } from './training-job.state';
import { endEvent, stateEvent, type TrainingEvent } from './training-events';
import type { TrainingJobRecord, TrainingJobStore } from './training-job.store';

/**
 * A job's events read from the database every `intervalMs`, for a subscriber on a replica that does
 * not run it: STATE now and when it changes, EPOCH for each epoch recorded from now on, then END.
 * Ends early (without END) once `closed()` says the server is stopping.
 */
export async function* pollJobEvents(store: TrainingJobStore, jobId: string, intervalMs: number, closed: () => boolean): AsyncGenerator<TrainingEvent> {
  let record: TrainingJobRecord | undefined = await store.get(jobId);
  let lastEpoch = record.epochsCompleted;
  let lastState: string | undefined;
  while (record && !closed()) {
    if (isFinalState(record.state)) {
      // Epochs recorded since the last look come before the end.
      for (const epoch of await store.epochs(jobId, lastEpoch)) {
        yield { type: 'EPOCH', jobId, state: 'RUNNING', progress: epoch.epoch / record.spec.epochs, epoch };
      }
      yield endEvent(record);
      return;
    }
    if (record.state !== lastState) {
      lastState = record.state;
      yield stateEvent(record);
    }
    for (const epoch of await store.epochs(jobId, lastEpoch)) {
      lastEpoch = epoch.epoch;
      yield { type: 'EPOCH', jobId, state: 'RUNNING', progress: epoch.epoch / record.spec.epochs, epoch };
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    record = await store.find(jobId);
  }
}
