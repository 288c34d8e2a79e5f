/**
 * Where a machine's CPU time went over an interval, from Linux's /proc: the whole machine, and one
 * process split into its main thread (the event loop) and its other threads (worker threads, V8's
 * GC helpers, libuv's pool). What is left is everything else running: the load generator, the bench.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  at: number;
  /** Ticks every CPU of the machine spent busy (not idle or waiting for I/O). */
  machineBusy: number;
  /** The process's main thread's ticks, and those of its other threads (those alive at the snapshot). */
  main: number;
  others: Map<number, number>;
}

/** CPUs kept busy over an interval, on average: 1.0 is one CPU all the time. */
export interface CpuUse {
  cpus: number;
  machine: number;
  main: number;
  others: number;
  /** machine - main - others: every other process. */
  rest: number;
}

export function cpuSnapshot(pid: number): CpuSnapshot {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = fields.map(Number);
  // user nice system idle iowait irq softirq steal ...: busy is user, nice, system, irq and softirq
  // (guest time is inside user already; steal is time the hypervisor gave to others).
  const machineBusy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6];
  let main = 0;
  const others = new Map<number, number>();
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    const tid = Number(entry);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${entry}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // pid (comm) state ...: comm may hold spaces; utime and stime are fields 14 and 15.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const used = Number(after[11]) + Number(after[12]);
    if (tid === pid) main = used;
    else others.set(tid, used);
  }
  return { at: performance.now(), machineBusy, main, others };
}

/** Average CPUs busy between two snapshots of the same process. Threads that started in between count from zero. */
export function cpuUse(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  if (!(seconds > 0)) throw new Error(`cpuUse: expected the second snapshot after the first, got ${seconds} s between them`);
  const cpus = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  let others = 0;
  for (const [tid, used] of after.others) others += used - (before.others.get(tid) ?? 0);
  const use = {
    cpus: os.availableParallelism(),
    machine: cpus(after.machineBusy - before.machineBusy),
    main: cpus(after.main - before.main),
    others: cpus(others),
  };
  return { ...use, rest: Math.max(0, use.machine - use.main - use.others) };
}

/** One line: "CPU 1.96 of 2 busy: main thread 0.98, other threads 0.61, rest 0.37". */
export function describeCpuUse(use: CpuUse, names: { main: string; others: string; rest: string }): string {
  const f = (x: number) => x.toFixed(2);
  return `CPUs busy ${f(use.machine)} of ${use.cpus}: ${names.main} ${f(use.main)}, ${names.others} ${f(use.others)}, ${names.rest} ${f(use.rest)}`;
}
