/**
 * Throttles progress reports of a long job into at most one write per `intervalMs`, never two at
 * once, and always writes the latest value eventually (a trailing write), so a job that reports
 * 0.9 and then computes for a minute shows 0.9, not the value before it.
 */
export class ProgressWriter {
  private latest: number | undefined;
  private written: number | undefined;
  private lastWriteAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly write: (fraction: number) => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) throw new Error(`ProgressWriter: expected intervalMs >= 0, got ${intervalMs}`);
  }

  /** Records `fraction` (clamped to 0..1; NaN is ignored) to be written soon. */
  report(fraction: number): void {
    if (this.closed || Number.isNaN(fraction)) return;
    this.latest = Math.min(1, Math.max(0, fraction));
    this.schedule();
  }

  /** Stops writing; resolves once a write in flight has landed, so a final write can follow it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined || this.inFlight !== undefined || this.latest === this.written) return;
    const wait = Math.max(0, this.lastWriteAt + this.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
    // A pending progress write must not keep a process alive on its own.
    this.timer.unref();
  }

  private flush(): void {
    if (this.closed || this.latest === undefined) return;
    const value = this.latest;
    this.lastWriteAt = performance.now();
    this.inFlight = this.write(value)
      .catch(this.onError)
      .finally(() => {
        this.inFlight = undefined;
        this.written = value;
        this.schedule();
      });
  }
}
