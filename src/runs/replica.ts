import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ReplicaConfig } from '../config/config';
import type { Database } from '../db/database';
import type { Logger } from '../log/logger';

/** Replica rows whose heartbeat is this much older than the timeout are deleted (their work was taken over long before). */
const FORGET_AFTER_TIMEOUTS = 20;

/**
 * This process as one of the replicas sharing the database: an id of its own (recorded as the owner
 * of the runs and training jobs it works on), a heartbeat row it refreshes every `heartbeatMs`, and
 * which replicas are alive (heartbeat within `timeoutMs`). A process killed with -9 stops beating;
 * the others then take over its work (TrainingJobService.sweep, RunService.closeInterrupted).
 */
export class Replica {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private beat: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    readonly config: ReplicaConfig,
    private readonly log: Logger,
  ) {}

  /** Writes this replica's row; call before recording any run as its own. */
  async register(): Promise<void> {
    const now = new Date();
    await this.db.prisma.replica.create({ data: { id: this.id, host: os.hostname(), pid: process.pid, startedAt: now, heartbeatAt: now } });
  }

  /** Beats every heartbeatMs; `onBeat` (the take-over sweep) runs after each beat, never two at once. */
  start(onBeat: () => Promise<void> = async () => undefined): void {
    this.timer = setInterval(() => {
      this.beat = this.beat.then(async () => {
        try {
          await this.heartbeat();
          await onBeat();
        } catch (error) {
          this.log.error('replica heartbeat failed', { replica: this.id, error: error instanceof Error ? error.message : String(error) });
        }
      });
    }, this.config.heartbeatMs);
    this.timer.unref();
  }

  /** Refreshes the heartbeat; a row another replica deleted (it took this one for dead) is written again. */
  async heartbeat(): Promise<void> {
    const updated = await this.db.execute('UPDATE "Replica" SET "heartbeatAt" = ? WHERE "id" = ?', [new Date(), this.id]);
    if (updated === 0) {
      this.log.warn('this replica was taken for dead (no heartbeat for GANQL_REPLICA_TIMEOUT_MS); its work went to others', { replica: this.id });
      await this.register();
    }
  }

  /** Ids of the replicas alive now: this one, and those that beat within timeoutMs. */
  async liveIds(): Promise<string[]> {
    const rows = await this.db.prisma.replica.findMany({ where: { heartbeatAt: { gte: new Date(Date.now() - this.config.timeoutMs) } }, select: { id: true } });
    return [...new Set([this.id, ...rows.map((r) => r.id)])];
  }

  /** Deletes the rows of replicas dead for long (their runs and jobs were taken over by then). */
  async forgetDead(): Promise<number> {
    const { count } = await this.db.prisma.replica.deleteMany({
      where: { heartbeatAt: { lt: new Date(Date.now() - FORGET_AFTER_TIMEOUTS * this.config.timeoutMs) } },
    });
    return count;
  }

  /** Stops beating and deletes this replica's row (a clean stop leaves nothing to take over). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beat;
    await this.db.execute('DELETE FROM "Replica" WHERE "id" = ?', [this.id]);
  }
}
