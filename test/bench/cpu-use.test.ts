import { describe, expect, it } from 'vitest';
import { cpuSnapshot, cpuUse, describeCpuUse } from '../../bench/lib/cpu-use';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

// The serving bench's CPU lines: /proc read for the machine, this process's main thread and its others.
describe.skipIf(process.platform !== 'linux')('cpuUse', () => {
  it('counts a busy loop on the main thread as about one CPU, on the main thread', () => {
    const before = cpuSnapshot(process.pid);
    const [cpu0, wall0] = [process.cpuUsage(), performance.now()];
    spin(400);
    const use = cpuUse(before, cpuSnapshot(process.pid));
    // The CPU this process got meanwhile (a busy machine takes some of it away), as a share of the time.
    const cpu = process.cpuUsage(cpu0);
    const got = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
    // All of it on the main thread, within /proc's 10 ms ticks (and a little for the process's other threads).
    expect(got).toBeGreaterThan(0.2);
    expect(use.main).toBeGreaterThan(got - 0.15);
    expect(use.main).toBeLessThan(Math.min(1.1, got + 0.1));
    expect(use.machine).toBeGreaterThanOrEqual(use.main - 0.05);
    expect(use.rest).toBeGreaterThanOrEqual(0);
    expect(describeCpuUse(use, { main: 'main', others: 'others', rest: 'rest' })).toMatch(
      /^CPUs busy \d+\.\d\d of \d+: main \d+\.\d\d, others \d+\.\d\d, rest \d+\.\d\d$/,
    );
  });

  it('counts an idle interval as almost nothing on the main thread', async () => {
    const before = cpuSnapshot(process.pid);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(cpuUse(before, cpuSnapshot(process.pid)).main).toBeLessThan(0.3);
  });

  it('refuses snapshots in the wrong order', () => {
    const first = cpuSnapshot(process.pid);
    spin(20);
    const second = cpuSnapshot(process.pid);
    expect(() => cpuUse(second, first)).toThrow(/expected the second snapshot after the first/);
  });
});
