import type { Database } from '../db/database';
import type { Logger } from '../log/logger';
import { InProcessQueue } from './in-process-queue';
import type { JobQueue } from './job-queue';
import { PgBossQueue } from './pg-boss-queue';

/** The job queue for the database: pg-boss on PostgreSQL (replicas share it), this process's own on SQLite. */
export function createJobQueue(database: Pick<Database, 'provider'>, databaseUrl: string, maxJobs: number, log: Logger): JobQueue {
  return database.provider === 'postgresql' ? new PgBossQueue(databaseUrl, maxJobs, log) : new InProcessQueue(maxJobs);
}
