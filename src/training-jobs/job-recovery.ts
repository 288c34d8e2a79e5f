import type { TrainingConfig } from '../config/config';
import type { Logger } from '../log/logger';
import type { RunService } from '../runs/run.service';
import { hasCheckpoint } from './job-folders';
import type { JobQueue } from './job-queue';
import type { ServedVersions } from './served-versions';
import type { TrainingJobRunner } from './training-job.runner';
import type { TrainingJobRecord, TrainingJobStore } from './training-job.store';

/** A job a stopped process left behind that this one takes up (recoverTrainingJobs). */
export interface RecoveredJob {
  record: TrainingJobRecord;
  /** From its checkpoint; false: from the start (it had not started). */
  resume: boolean;
}

/**
 * Before the server closes runs left RUNNING (RunService.closeInterrupted): finds the jobs a stopped
 * process left QUEUED or RUNNING, or INTERRUPTED by a shutdown that promised to resume them, and
 * decides for each: resumed from its checkpoint (or from the start, if it never started), or
 * INTERRUPTED with the reason. Returns those to resume; their runs must stay open.
 */
export async function recoverTrainingJobs(store: TrainingJobStore, runs: RunService, config: TrainingConfig, log: Logger): Promise<RecoveredJob[]> {
  const recovered: RecoveredJob[] = [];
  for (const record of await store.unfinished()) {
    const checkpoint = hasCheckpoint(record.folder);
    const started = record.startedAt !== null;
    const reason = !config.resume
      ? 'resume disabled (GANQL_RESUME_TRAINING=false): the server stopped while this job was in progress'
      : started && !checkpoint
        ? 'no checkpoint: the server stopped before the first epoch ended'
        : undefined;
    if (reason === undefined) {
      recovered.push({ record, resume: checkpoint });
      continue;
    }
    await runs.markInterrupted(record.id, reason, [
      store.finishStatement(record.id, { state: 'INTERRUPTED', message: reason, resumeOnStart: false }, record.finishedAt ?? new Date()),
    ]);
    log.warn('training job not resumed', { jobId: record.id, reason });
  }
  return recovered;
}

export interface ReplicaSweepOptions {
  config: TrainingConfig;
  store: TrainingJobStore;
  runs: RunService;
  queue: JobQueue;
  log: Logger;
  /** This replica's id, the owner it claims jobs as (src/runs/replica.ts). */
  replicaId: string;
  /** A QUEUED job no replica queued after this long is queued again (its replica died while queueing it). */
  replicaTimeoutMs: number;
}

/** The take-over sweep of replicas sharing PostgreSQL, run after every heartbeat (TrainingJobService.sweep). */
export class ReplicaSweep {
  constructor(
    private readonly o: ReplicaSweepOptions,
    private readonly runner: TrainingJobRunner,
    private readonly versions: ServedVersions,
  ) {}

  /**
   * Stops this replica's jobs that were cancelled elsewhere (or that another replica took over), puts
   * the jobs of dead replicas back in the queue (they resume from their checkpoints on whichever
   * replica takes them), queues jobs a dead replica accepted but never queued, and loads the versions
   * other replicas finished.
   */
  async sweep(liveOwners: readonly string[]): Promise<void> {
    if (this.runner.stopping) return;
    for (const seen of await this.o.store.watch([...this.runner.active.keys()])) {
      const job = this.runner.active.get(seen.id);
      if (!job) continue;
      if (seen.owner !== this.o.replicaId) this.runner.fence(job);
      else if (seen.cancelRequested) this.runner.requestStop(job, 'cancel');
    }
    for (const orphan of await this.o.store.ownedByDead(liveOwners)) {
      if (!(await this.o.store.release(orphan.id, orphan.owner))) continue;
      if (!this.o.config.resume) {
        const reason = 'resume disabled (GANQL_RESUME_TRAINING=false): the replica running this job stopped';
        await this.o.runs.markInterrupted(orphan.id, reason, [
          this.o.store.finishStatement(orphan.id, { state: 'INTERRUPTED', message: reason, resumeOnStart: false }),
        ]);
        this.o.log.warn('training job not resumed', { jobId: orphan.id, reason });
        continue;
      }
      await this.o.queue.requeue(orphan.id);
      this.o.log.warn('training job of a stopped replica queued again', { jobId: orphan.id, replica: orphan.owner });
    }
    for (const id of await this.o.store.queuedUnowned(new Date(Date.now() - this.o.replicaTimeoutMs))) await this.o.queue.ensure(id);
    await this.versions.sync();
  }
}
