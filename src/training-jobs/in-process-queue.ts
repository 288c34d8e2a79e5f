import type { JobQueue, JobRunOutcome } from './job-queue';

/** The queue of one process (SQLite): a FIFO in memory, at most maxJobs delivered at once. */
export class InProcessQueue implements JobQueue {
  readonly shared = false;
  private readonly waiting: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private run: ((jobId: string) => Promise<JobRunOutcome>) | undefined;
  private stopped = false;

  constructor(private readonly maxJobs: number) {}

  async start(run: (jobId: string) => Promise<JobRunOutcome>): Promise<void> {
    this.run = run;
    this.pump();
  }

  async enqueue(jobId: string): Promise<void> {
    if (!this.waiting.includes(jobId)) this.waiting.push(jobId);
    this.pump();
  }

  async remove(jobId: string): Promise<void> {
    const i = this.waiting.indexOf(jobId);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  requeue(jobId: string): Promise<void> {
    return this.enqueue(jobId);
  }

  ensure(jobId: string): Promise<void> {
    return this.enqueue(jobId);
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    const left = this.waiting.splice(0);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return left;
  }

  /** Delivers the oldest waiting jobs while slots are free. */
  private pump(): void {
    const run = this.run;
    if (!run) return;
    while (!this.stopped && this.inFlight.size < this.maxJobs && this.waiting.length > 0) {
      const jobId = this.waiting.shift() as string;
      const delivery: Promise<void> = run(jobId)
        .then((outcome) => {
          // A slot taken meanwhile: back to the front of the line.
          if (outcome === 'busy' && !this.stopped) this.waiting.unshift(jobId);
        })
        .catch(() => undefined)
        .finally(() => {
          this.inFlight.delete(delivery);
          this.pump();
        });
      this.inFlight.add(delivery);
    }
  }
}
