import { describe, expect, it } from 'vitest';
import { ProgressWriter } from '../../src/runs/progress-writer';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ProgressWriter', () => {
  it('writes at most once per interval, never two at once, and always the latest value last', async () => {
    const writes: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const writer = new ProgressWriter(
      async (f) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(5);
        writes.push(f);
        inFlight--;
      },
      100,
      () => undefined,
    );
    for (let i = 1; i <= 50; i++) writer.report(i / 50);
    await sleep(20);
    expect(writes).toEqual([1]);
    writer.report(0.5);
    writer.report(0.6);
    await sleep(40);
    expect(writes).toEqual([1]);
    await sleep(150);
    expect(writes).toEqual([1, 0.6]);
    expect(maxInFlight).toBe(1);
    await writer.close();
  });

  it('clamps to 0..1, ignores NaN, and writes nothing after close', async () => {
    const writes: number[] = [];
    const writer = new ProgressWriter(
      async (f) => void writes.push(f),
      0,
      () => undefined,
    );
    writer.report(1.7);
    await sleep(10);
    writer.report(Number.NaN);
    writer.report(-3);
    await sleep(10);
    await writer.close();
    writer.report(0.5);
    await sleep(10);
    expect(writes).toEqual([1, 0]);
  });

  it('reports a failed write and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const writer = new ProgressWriter(
      async () => {
        calls++;
        if (calls === 1) throw new Error('database busy');
      },
      0,
      (e) => errors.push(e),
    );
    writer.report(0.1);
    await sleep(10);
    writer.report(0.2);
    await sleep(10);
    await writer.close();
    expect(calls).toBe(2);
    expect(String(errors[0])).toContain('database busy');
  });
});
