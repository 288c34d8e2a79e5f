import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// The studio's plot module is a browser ES module without types; its tick math needs no DOM.
interface Ticks {
  values: number[];
  step: number;
  labels: string[];
}
interface PlotModule {
  niceTicks(lo: number, hi: number, maxTicks: number, integers?: boolean): Ticks;
  timeTicks(lo: number, hi: number, maxTicks: number): Ticks;
  formatNumber(value: number, step: number): string;
}

let plot: PlotModule;

beforeAll(async () => {
  const url = pathToFileURL(path.resolve(__dirname, '../../web/studio/lib/plot.js')).href;
  plot = (await import(url)) as PlotModule;
});

describe('plot ticks', () => {
  it('puts y ticks at 1, 2 or 5 x 10^k that cover the data', () => {
    // Range 5.76..6.72 in at most 5 ticks: raw step 0.24 -> 0.5; 5.5 .. 7.0.
    expect(plot.niceTicks(5.76, 6.72, 5)).toEqual({ values: [5.5, 6, 6.5, 7], step: 0.5, labels: ['5.5', '6.0', '6.5', '7.0'] });
    // 0..38.4 in at most 3 ticks: raw 19.2 -> 20.
    expect(plot.niceTicks(0, 38.4, 3).values).toEqual([0, 20, 40]);
    // Losses below zero keep their sign, and 0 is exactly 0.
    expect(plot.niceTicks(-0.3, 0.45, 4).values).toEqual([-0.5, 0, 0.5]);
  });

  it('gives an index axis whole-number ticks and a one-point range some room', () => {
    expect(plot.niceTicks(1, 4, 10, true)).toMatchObject({ values: [1, 2, 3, 4], step: 1, labels: ['1', '2', '3', '4'] });
    // A single value v spreads to v +- 10%: 6.0 -> 5.4..6.6, raw step 1.2 / 4 = 0.3 -> 0.5.
    expect(plot.niceTicks(6, 6, 5).values).toEqual([5, 5.5, 6, 6.5, 7]);
    // All zeros: 0..1, raw step 0.25 -> 0.5.
    expect(plot.niceTicks(0, 0, 5).values).toEqual([0, 0.5, 1]);
  });

  it('puts time ticks on round seconds, minutes or days in local time', () => {
    const t0 = new Date(2026, 10, 27, 9, 57, 40, 300).getTime();
    // 3 s apart from :40.3, 4 ticks at most: 1 s steps need 5 (:40 .. :44), so 5 s steps.
    const seconds = plot.timeTicks(t0, t0 + 3000, 4);
    expect(seconds.step).toBe(5000);
    expect(seconds.labels).toEqual(['09:57:40', '09:57:45']);
    // 09:57 .. 11:57 in 5 ticks: half hours need 6 (09:30 .. 12:00), so hours.
    const hours = plot.timeTicks(t0, t0 + 2 * 3600e3, 5);
    expect(hours.step).toBe(3600e3);
    expect(hours.labels).toEqual(['09:00', '10:00', '11:00', '12:00']);
    const days = plot.timeTicks(t0, t0 + 5 * 86400e3, 4);
    expect(days.step).toBe(2 * 86400e3);
    expect(days.labels[0]).toMatch(/^2026-11-2\d$/);
  });

  it('formats numbers with the decimals their step needs', () => {
    expect(plot.formatNumber(6.5, 0.5)).toBe('6.5');
    expect(plot.formatNumber(40, 20)).toBe('40');
    expect(plot.formatNumber(0.0004, 0.0002)).toBe('0.0004');
    expect(plot.formatNumber(35.3612, 0)).toBe('35.4');
    expect(plot.formatNumber(123456, 0)).toBe('1.23e+5');
  });
});
