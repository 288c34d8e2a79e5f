import { ErrorCode } from '../errors/error-code';
import { badInput, GanqlError } from '../errors/ganql-error';
import type { ScorerCatalog } from '../evaluation/scorer-catalog';
import type { InferencePool } from '../inference/pool';
import { MAX_RUNS_PAGE } from '../runs/run.store';
import { expectIntInRange } from '../validation/checks';
import { ReplicaSweep, type RecoveredJob } from './job-recovery';
import { pollJobEvents } from './polled-events';
import { ServedVersions } from './served-versions';
import { endEvent, eventsOf, TrainingEvents, type TrainingEvent } from './training-events';
import { TrainingJobRunner, type TrainingJobRunnerOptions } from './training-job.runner';
import { internalFailure, isFinalState, type JobEnd, type TrainingJobState } from './training-job.state';
import type { EpochView, TrainingJobPage, TrainingJobRecord } from './training-job.store';
import { planTrainingJob, type TrainingRequest } from './training-plan';

export { recoverTrainingJobs, type RecoveredJob } from './job-recovery';
export { TRAINING_DATASET_NAMES, type TrainingRequest } from './training-plan';

/** cancelTraining waits this long for the job to stop before answering. */
const CANCEL_WAIT_MS = 30_000;
/** A subscriber on a replica that does not run the job reads its progress from the database this often. */
const POLL_EVENTS_MS = 500;

export interface TrainingJobServiceOptions extends TrainingJobRunnerOptions {
  pool: InferencePool;
  /** The scorers under scorersDir: a job asking for evalEvery is refused at once when its dataset has none. */
  scorers: ScorerCatalog;
  /** A QUEUED job no replica queued after this long is queued again (its replica died while queueing it). */
  replicaTimeoutMs: number;
}

/**
 * Training jobs over GraphQL: each job is a TRAIN run whose work is a training session on a worker
 * thread of its own (training-job.runner.ts), at most `maxJobs` at once, more QUEUED. Requests are
 * checked and planned by training-plan.ts; jobs other processes left are taken up by job-recovery.ts.
 * Each finished version (and each kept epoch) is added to the registry and the inference pool, servable at once.
 */
export class TrainingJobService {
  readonly events = new TrainingEvents();
  private readonly versions: ServedVersions;
  private readonly runner: TrainingJobRunner;
  private readonly replicas: ReplicaSweep;

  constructor(private readonly o: TrainingJobServiceOptions) {
    this.versions = new ServedVersions(o.registry, o.pool, o.log);
    this.runner = new TrainingJobRunner(o, this.events, this.versions);
    this.replicas = new ReplicaSweep(o, this.runner, this.versions);
  }

  /** Starts taking jobs from the queue. */
  async startQueue(): Promise<void> {
    await this.o.queue.start((jobId) => this.runner.runJob(jobId));
  }

  /**
   * Checks the request and queues the job; resolves with it (QUEUED or RUNNING) at once. A refused
   * request is a FAILED TRAIN run and throws (BAD_USER_INPUT; NOT_FOUND for an unknown fineTuneFrom).
   */
  async start(request: TrainingRequest): Promise<TrainingJobRecord> {
    const id = await this.o.runs.startQueued({ kind: 'TRAIN', modelId: request.fineTuneFrom ?? undefined, parameters: request }, async (run) => {
      if (this.runner.stopping) throw new GanqlError(ErrorCode.UNAVAILABLE, 'the server is shutting down; start the job again once it is back');
      const job = planTrainingJob(request, run.runId, this.o.registry, this.o.config.jobsDir, { scorers: this.o.scorers, dir: this.o.scorersDir });
      // fineTuneFrom may be an alias: the run records the version it names.
      if (job.parentModelId !== null) run.setModel(job.parentModelId);
      await this.o.store.create(job);
      try {
        await this.o.queue.enqueue(run.runId);
      } catch (error) {
        await this.o.store.finish(run.runId, internalFailure(run.runId)).catch(() => undefined);
        throw error;
      }
    });
    return this.o.store.get(id);
  }

  /** The job, from the database; NOT_FOUND for an unknown id. */
  get(id: string): Promise<TrainingJobRecord> {
    return this.o.store.get(id);
  }

  list(state: TrainingJobState | undefined, first: number, after: string | undefined): Promise<TrainingJobPage> {
    expectIntInRange('first', first, 1, MAX_RUNS_PAGE);
    return this.o.store.list(state, first, after);
  }

  epochs(jobId: string): Promise<EpochView[]> {
    return this.o.store.epochs(jobId);
  }

  /**
   * Stops a QUEUED or RUNNING job after its current step; it ends CANCELLED with its completed
   * epochs kept. Resolves with the job once it has stopped (or after CANCEL_WAIT_MS); a job another
   * replica runs is stopped by that replica at its next heartbeat. A job that has ended is
   * BAD_USER_INPUT saying its state; an unknown id NOT_FOUND.
   */
  async cancel(id: string): Promise<TrainingJobRecord> {
    const record = await this.o.store.get(id);
    if (isFinalState(record.state)) throw badInput(`id: expected a QUEUED or RUNNING training job, got job ${id}, which is ${record.state}`);
    if (!this.runner.active.has(id)) {
      const message = 'cancelled while QUEUED';
      // The claim and the run's end in one transaction: both, or neither if a replica took the job meanwhile.
      if (await this.o.runs.markEnded(id, 'CANCELLED', message, [this.o.store.cancelQueuedStatement(id, message)])) {
        await this.o.queue.remove(id);
        const ended = await this.o.store.get(id);
        this.events.publish(endEvent(ended));
        this.o.log.info('training job cancelled', { jobId: id, reason: message });
        return ended;
      }
    }
    const job = this.runner.active.get(id);
    if (job) {
      this.runner.requestStop(job, 'cancel');
      await within(job.settled, CANCEL_WAIT_MS);
    } else {
      // Running on another replica (or taken up by one just now): its owner sees the request.
      await this.o.store.requestCancel(id);
      await within(this.ended(id), CANCEL_WAIT_MS);
    }
    return this.o.store.get(id);
  }

  /**
   * The job's events from now on, ending after its END event; for a job that has ended, its END
   * event alone. A job another replica runs (or that waits in the shared queue) is followed in the
   * database: its STATE, EPOCH and END events, without STEP. NOT_FOUND for an unknown id.
   */
  async subscribe(jobId: string): Promise<AsyncIterableIterator<TrainingEvent>> {
    await this.o.store.get(jobId);
    if (this.o.queue.shared && !this.runner.active.has(jobId)) {
      const record = await this.o.store.get(jobId);
      if (isFinalState(record.state)) return eventsOf([endEvent(record)]);
      return pollJobEvents(this.o.store, jobId, POLL_EVENTS_MS, () => this.runner.stopping);
    }
    // Listening starts before the state is read: an END published meanwhile is in the stream.
    const stream = this.events.listen(jobId);
    const record = await this.o.store.get(jobId);
    if (!isFinalState(record.state)) return stream;
    await stream.return?.();
    return eventsOf([endEvent(record)]);
  }

  /** Takes up the jobs recoverTrainingJobs found (one process, SQLite): each QUEUED again, as the same run, resuming from its checkpoint. */
  async resume(jobs: readonly RecoveredJob[]): Promise<void> {
    for (const { record, resume } of jobs) {
      await this.o.store.setQueued(record.id);
      await this.o.runs.reopen(record.id);
      await this.o.queue.enqueue(record.id);
      this.o.log.info('training job resumed', { jobId: record.id, from: resume ? `checkpoint after epoch ${record.epochsCompleted}` : 'the start' });
    }
  }

  /**
   * For shutdown: refuses new jobs, stops every job after its current step (checkpointed) and
   * resolves once each is recorded and its subscribers have had its END event; then ends every
   * subscription. One process (SQLite): each ends INTERRUPTED and resumes on the next start.
   * Replicas (PostgreSQL): each goes back to the shared queue, and another replica resumes it.
   */
  async stop(): Promise<void> {
    const jobs = this.runner.stopAll();
    const left = await this.o.queue.stop();
    await Promise.all(jobs.map((job) => job.settled));
    const end: JobEnd = {
      state: 'INTERRUPTED',
      message: 'the server stopped before the job left the queue; it starts when the server starts again',
      resumeOnStart: true,
    };
    for (const id of left) {
      const record = await this.o.store.find(id);
      if (!record || record.state !== 'QUEUED') continue;
      await this.o.runs.markEnded(id, 'INTERRUPTED', end.message, [this.o.store.finishStatement(id, end)]);
      this.events.publish(endEvent(await this.o.store.get(id)));
    }
    this.events.close();
  }

  /** Every heartbeat of a replica sharing PostgreSQL: the take-over sweep (ReplicaSweep.sweep). */
  sweep(liveOwners: readonly string[]): Promise<void> {
    return this.replicas.sweep(liveOwners);
  }

  /** Loads the versions other replicas recorded (from the shared models folder) so this one serves them too. */
  syncModels(): Promise<void> {
    return this.versions.sync();
  }

  /** Resolves once the job is in a final state (polling the database). */
  private async ended(id: string): Promise<void> {
    for (;;) {
      const record = await this.o.store.find(id);
      if (!record || isFinalState(record.state)) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_EVENTS_MS));
    }
  }
}

/** Resolves when `promise` settles or after `ms`, whichever is first. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
