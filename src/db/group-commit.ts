import type { Database, Statement } from './database';

interface PendingWrite {
  statements: readonly Statement[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit, as databases do for their own log: the writes handed in during one turn of the event
 * loop (the requests of one inference batch end together) are made in one transaction, and each
 * caller's promise resolves once that transaction has committed. While a commit is under way
 * (PostgreSQL), new writes gather for the next. If the shared transaction fails, each caller's
 * writes are retried in a transaction of their own, so one bad set fails itself, not its neighbours.
 */
export class GroupCommit {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private committing: Promise<void> | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    /** Told the size of every group committed (for tests and metrics). */
    private readonly onCommit?: (writes: number) => void,
  ) {}

  /** Makes `statements` (all or none of them) in the next group's transaction; resolves once committed. */
  write(statements: readonly Statement[]): Promise<void> {
    // A guard that changes nothing rolls back its whole transaction: it cannot share one with other callers' writes.
    if (statements.some((s) => s.expectChange)) return Promise.reject(new Error('GroupCommit: expected statements without expectChange, got a guarded one'));
    if (statements.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ statements, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every write handed in so far has been committed or has failed. */
  onIdle(): Promise<void> {
    if (!this.scheduled && this.committing === undefined && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.committing !== undefined) return;
    this.scheduled = true;
    // After the current turn's callbacks and microtasks: every request its I/O woke has handed in its writes by then.
    setImmediate(() => {
      this.scheduled = false;
      this.committing = this.commit(this.pending.splice(0)).finally(() => {
        this.committing = undefined;
        if (this.pending.length > 0) this.schedule();
        else this.idleWaiters.splice(0).forEach((resolve) => resolve());
      });
    });
  }

  private async commit(group: readonly PendingWrite[]): Promise<void> {
    try {
      await this.db.executeAll(group.flatMap((w) => w.statements));
      this.onCommit?.(group.length);
      for (const w of group) w.resolve();
      return;
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
    }
    for (const w of group) {
      try {
        await this.db.executeAll(w.statements);
        this.onCommit?.(1);
        w.resolve();
      } catch (error) {
        w.reject(error);
      }
    }
  }
}
