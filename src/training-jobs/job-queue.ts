/**
 * How a job delivered to a replica went (TrainingJobService.runJob): `ended` (trained to an end, or
 * nothing to do: taken by another replica, cancelled), `handed-back` (the replica stopped; the job is
 * QUEUED again for any replica), `busy` (every training slot here is taken; deliver it later).
 */
export type JobRunOutcome = 'ended' | 'handed-back' | 'busy';

/**
 * Where training jobs wait for a training slot, chosen at start (createJobQueue): in this process
 * for SQLite (one process owns the file), in PostgreSQL through pg-boss when several replicas share
 * the database. Either way a job row is QUEUED until a replica claims it (TrainingJobStore.claim),
 * which is what makes each job run once; the queue only says who should try, and when.
 */
export interface JobQueue {
  /** pg-boss: jobs are shared by replicas, and one stopping hands its jobs to the others. */
  readonly shared: boolean;
  /** Starts delivering queued jobs to `run`, at most maxJobs at once in this process. */
  start(run: (jobId: string) => Promise<JobRunOutcome>): Promise<void>;
  /** Queues a job whose row is QUEUED. */
  enqueue(jobId: string): Promise<void>;
  /** Forgets a queued job (cancelled while QUEUED). */
  remove(jobId: string): Promise<void>;
  /** Queues a job again, whatever became of its earlier delivery (its replica died while running it). */
  requeue(jobId: string): Promise<void>;
  /** Queues a QUEUED job again only if it is not waiting for delivery (its replica died before queueing it). */
  ensure(jobId: string): Promise<void>;
  /** Stops delivering and waits for the `run` calls in flight; returns the jobs still waiting in this process. */
  stop(): Promise<string[]>;
}
