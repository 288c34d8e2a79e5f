import { isFinalState, type FinalJobState } from './training-job.state';
import type { EpochView, TrainingJobRecord } from './training-job.store';

/** What a trainingProgress subscriber receives. Every event carries the job's state and progress (0..1). */
export type TrainingEvent =
  /** The job left the queue and started (or resumed) on a worker. */
  | { type: 'STATE'; jobId: string; state: 'QUEUED' | 'RUNNING'; progress: number; epochsCompleted: number }
  /** Losses of the latest generator step: a few per second at most. */
  | {
      type: 'STEP';
      jobId: string;
      state: 'RUNNING';
      progress: number;
      epoch: number;
      step: number;
      stepsPerEpoch: number;
      generatorLoss: number;
      discriminatorLoss: number;
      /** Training images the step consumed per second. */
      imagesPerSecond: number;
    }
  /** One epoch completed and checkpointed, with its metrics and sample grid. */
  | { type: 'EPOCH'; jobId: string; state: 'RUNNING'; progress: number; epoch: EpochView }
  /** The last event: how the job ended, and the version it made. */
  | { type: 'END'; jobId: string; state: FinalJobState; progress: number; epochsCompleted: number; modelId: string | null; error: string | null };

/** Events a slow subscriber has not read yet, beyond which its oldest unread STEP events are dropped. */
const MAX_BUFFERED = 64;

/** One subscriber's stream: an async iterator over the job's events from now on, ending after END. */
class EventStream implements AsyncIterableIterator<TrainingEvent> {
  private readonly buffer: TrainingEvent[] = [];
  private waiting: ((result: IteratorResult<TrainingEvent>) => void) | undefined;
  private closed = false;

  constructor(private readonly onClose: (stream: EventStream) => void) {}

  push(event: TrainingEvent): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
    } else {
      this.buffer.push(event);
      // Losses of old steps are the first thing a lagging client can do without.
      if (this.buffer.length > MAX_BUFFERED) {
        const i = this.buffer.findIndex((e) => e.type === 'STEP');
        if (i >= 0) this.buffer.splice(i, 1);
      }
    }
    if (event.type === 'END') this.end();
  }

  /** No more events: a reader gets those already buffered, then done. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    if (this.waiting && this.buffer.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<TrainingEvent>> {
    const event = this.buffer.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The subscriber left (graphql-ws "complete", or the socket closed). */
  return(): Promise<IteratorResult<TrainingEvent>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TrainingEvent> {
    return this;
  }
}

/** A stream of the given events only: for jobs that have ended, or that this process does not run. */
export async function* eventsOf(events: readonly TrainingEvent[]): AsyncIterableIterator<TrainingEvent> {
  for (const event of events) yield event;
}

/** In-process publish/subscribe of training events, by job id. */
export class TrainingEvents {
  private readonly streams = new Map<string, Set<EventStream>>();

  /** Subscribes to the job's next events, synchronously: nothing published after this call is missed. */
  listen(jobId: string): AsyncIterableIterator<TrainingEvent> {
    let set = this.streams.get(jobId);
    if (!set) {
      set = new Set();
      this.streams.set(jobId, set);
    }
    const stream = new EventStream((s) => {
      const current = this.streams.get(jobId);
      current?.delete(s);
      if (current?.size === 0) this.streams.delete(jobId);
    });
    set.add(stream);
    return stream;
  }

  publish(event: TrainingEvent): void {
    for (const stream of [...(this.streams.get(event.jobId) ?? [])]) stream.push(event);
  }

  /** Subscribers of a job right now (for tests and logs). */
  listeners(jobId: string): number {
    return this.streams.get(jobId)?.size ?? 0;
  }

  /** Ends every stream (shutdown): readers finish what is buffered, then see done. */
  close(): void {
    for (const set of [...this.streams.values()]) for (const stream of [...set]) stream.end();
    this.streams.clear();
  }
}

/** The event that says where a job is now: END once it has ended, else STATE. */
export function endEvent(record: TrainingJobRecord): TrainingEvent {
  if (!isFinalState(record.state)) return stateEvent(record);
  return {
    type: 'END',
    jobId: record.id,
    state: record.state,
    progress: record.progress,
    epochsCompleted: record.epochsCompleted,
    modelId: record.modelId,
    error: record.error,
  };
}

/** A STATE event for a job that has not ended (QUEUED, or RUNNING). */
export function stateEvent(record: TrainingJobRecord): TrainingEvent {
  const state = record.state === 'QUEUED' ? 'QUEUED' : 'RUNNING';
  return { type: 'STATE', jobId: record.id, state, progress: record.progress, epochsCompleted: record.epochsCompleted };
}
