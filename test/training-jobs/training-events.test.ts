import { describe, expect, it } from 'vitest';
import { eventsOf, TrainingEvents, type TrainingEvent } from '../../src/training-jobs/training-events';

const step = (jobId: string, step: number): TrainingEvent => ({
  type: 'STEP',
  jobId,
  state: 'RUNNING',
  progress: step / 100,
  epoch: 1,
  step,
  stepsPerEpoch: 100,
  generatorLoss: step,
  discriminatorLoss: -step,
  imagesPerSecond: 100 * step,
});
const end = (jobId: string): TrainingEvent => ({ type: 'END', jobId, state: 'SUCCEEDED', progress: 1, epochsCompleted: 1, modelId: 'm@1', error: null });

async function drain(stream: AsyncIterable<TrainingEvent>): Promise<TrainingEvent[]> {
  const out: TrainingEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe('TrainingEvents', () => {
  it("delivers a job's events in order to each of its listeners, and ends every stream after END", async () => {
    const events = new TrainingEvents();
    const a = events.listen('job-1');
    const b = events.listen('job-1');
    const other = events.listen('job-2');
    expect(events.listeners('job-1')).toBe(2);
    events.publish(step('job-1', 1));
    events.publish(step('job-2', 7));
    events.publish(step('job-1', 2));
    events.publish(end('job-1'));
    // Nothing after END reaches anyone.
    events.publish(step('job-1', 3));
    const expected = [step('job-1', 1), step('job-1', 2), end('job-1')];
    expect(await drain(a)).toEqual(expected);
    expect(await drain(b)).toEqual(expected);
    expect(events.listeners('job-1')).toBe(0);
    expect(events.listeners('job-2')).toBe(1);
    expect(await other.next()).toEqual({ value: step('job-2', 7), done: false });
    const pending = other.next();
    events.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(events.listeners('job-2')).toBe(0);
  });

  it('a reader waiting for the next event gets it when published', async () => {
    const events = new TrainingEvents();
    const stream = events.listen('j');
    const next = stream.next();
    events.publish(step('j', 5));
    expect(await next).toEqual({ value: step('j', 5), done: false });
  });

  it('return() unsubscribes: later events are not buffered for a reader that left', async () => {
    const events = new TrainingEvents();
    const stream = events.listen('j');
    events.publish(step('j', 1));
    expect(await stream.return!()).toEqual({ value: undefined, done: true });
    expect(events.listeners('j')).toBe(0);
    events.publish(step('j', 2));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('a lagging reader loses its oldest STEP events beyond 64 unread, never EPOCH or END', async () => {
    const events = new TrainingEvents();
    const stream = events.listen('j');
    const epoch: TrainingEvent = {
      type: 'EPOCH',
      jobId: 'j',
      state: 'RUNNING',
      progress: 0.5,
      epoch: {
        epoch: 1,
        generatorLoss: 1,
        discriminatorLoss: 1,
        dAccuracyReal: 0.5,
        dAccuracyFake: 0.5,
        testError: null,
        seconds: 1,
        imagesPerSecond: 640,
        inceptionScore: null,
        inceptionScoreStd: null,
        fid: null,
        samplesPng: new Uint8Array([1]),
        keptModelId: null,
      },
    };
    events.publish(epoch);
    for (let i = 1; i <= 100; i++) events.publish(step('j', i));
    events.publish(end('j'));
    const got = await drain(stream);
    expect(got[0]).toEqual(epoch);
    expect(got.at(-1)).toEqual(end('j'));
    const steps = got.filter((e) => e.type === 'STEP').map((e) => (e.type === 'STEP' ? e.step : 0));
    // 64 buffered at most: the epoch, the newest 62 steps when END came in (END itself makes 65, dropping one more step).
    expect(steps).toEqual(Array.from({ length: 62 }, (_, i) => 39 + i));
  });

  it('eventsOf streams a fixed list and completes', async () => {
    expect(await drain(eventsOf([end('x')]))).toEqual([end('x')]);
  });
});
