import { Client } from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from '../log/logger';
import type { JobQueue, JobRunOutcome } from './job-queue';

/** pg-boss queue of ganql's training jobs (in the `pgboss` schema pg-boss creates at start). */
export const TRAINING_QUEUE = 'ganql-training';

/** A delivery handed back (replica stopping) or refused (slots full) is offered again after this long. */
const RETRY_DELAY_S = 2;
/**
 * pg-boss fails a handler that runs longer than its job's expiry (at most 24 h) and delivers the
 * job again: the claim keeps the job running once, and the slot limit keeps the replica from
 * training more than maxJobs.
 */
const EXPIRE_S = 23 * 3600;
/** Deliveries never run out: the database row, not pg-boss, says when a job is over. */
const RETRY_LIMIT = 1_000_000;
/** How often each worker asks PostgreSQL for a job (pg-boss polls; its minimum is 0.5 s). */
const POLL_S = 1;
/** Advisory lock key under which replicas set up pg-boss one at a time (its schema and the queue). */
const SETUP_LOCK = 72707370;
/** A stopping replica waits this long for its handlers (its jobs stop at their next step first). */
const STOP_TIMEOUT_MS = 60_000;

interface TrainingMessage {
  jobId: string;
}

function isTrainingMessage(data: unknown): data is TrainingMessage {
  return typeof data === 'object' && data !== null && typeof (data as Partial<TrainingMessage>).jobId === 'string';
}

/**
 * Training jobs queued in PostgreSQL through pg-boss: every replica runs maxJobs pg-boss workers,
 * each fetching one job at a time (SKIP LOCKED: one replica gets each delivery), and its handler
 * lasts as long as the training. The pg-boss job's id is the training job's id.
 */
export class PgBossQueue implements JobQueue {
  readonly shared = true;
  private readonly boss: PgBoss;
  private started = false;

  constructor(
    private readonly connectionString: string,
    private readonly maxJobs: number,
    private readonly log: Logger,
  ) {
    this.boss = new PgBoss({ connectionString, schema: 'pgboss', max: Math.max(2, maxJobs + 1) });
    this.boss.on('error', (error: unknown) => this.log.error('pg-boss error', { error: error instanceof Error ? error.message : String(error) }));
  }

  async start(run: (jobId: string) => Promise<JobRunOutcome>): Promise<void> {
    // Replicas starting together would create pg-boss's schema and the queue's partition at once (PostgreSQL reports a deadlock).
    const lock = new Client({ connectionString: this.connectionString });
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK]);
      await this.boss.start();
      this.started = true;
      await this.createQueue();
    } finally {
      await lock.end();
    }
    for (let i = 0; i < this.maxJobs; i += 1) {
      await this.boss.work<TrainingMessage>(TRAINING_QUEUE, { batchSize: 1, pollingIntervalSeconds: POLL_S }, async ([job]) => {
        if (!job || !isTrainingMessage(job.data)) return;
        const outcome = await run(job.data.jobId);
        // Failing the delivery makes pg-boss offer it again (to any replica) after RETRY_DELAY_S.
        if (outcome !== 'ended') throw new Error(`training job ${job.data.jobId} ${outcome === 'busy' ? 'not taken: every slot is busy' : 'handed back'}`);
      });
    }
  }

  async enqueue(jobId: string): Promise<void> {
    await this.boss.send(TRAINING_QUEUE, { jobId }, { id: jobId });
  }

  async remove(jobId: string): Promise<void> {
    await this.boss.deleteJob(TRAINING_QUEUE, jobId);
  }

  async requeue(jobId: string): Promise<void> {
    // The earlier delivery may sit "active" on a dead replica until it expires: replace it.
    await this.boss.deleteJob(TRAINING_QUEUE, jobId);
    await this.enqueue(jobId);
  }

  async ensure(jobId: string): Promise<void> {
    const job = await this.boss.getJobById(TRAINING_QUEUE, jobId);
    if (job && (job.state === 'created' || job.state === 'retry' || job.state === 'active')) return;
    await this.requeue(jobId);
  }

  async stop(): Promise<string[]> {
    if (this.started) await this.boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS });
    this.started = false;
    return [];
  }

  private async createQueue(): Promise<void> {
    if (await this.boss.getQueue(TRAINING_QUEUE)) return;
    try {
      await this.boss.createQueue(TRAINING_QUEUE, {
        name: TRAINING_QUEUE,
        policy: 'standard',
        retryLimit: RETRY_LIMIT,
        retryDelay: RETRY_DELAY_S,
        expireInSeconds: EXPIRE_S,
      });
    } catch (error) {
      // Another replica created it at the same moment.
      if (!(await this.boss.getQueue(TRAINING_QUEUE))) throw error;
    }
  }
}
