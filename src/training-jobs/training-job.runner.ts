// Over 300 lines: one class, the life of a running training job from claim to end (stop, fence,
// outcome); splitting it would spread one job's state over files.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../backend/backend';
import type { TrainingConfig } from '../config/config';
import type { ErrorCode } from '../errors/error-code';
import { GanqlError, isGanqlError } from '../errors/ganql-error';
import { UnreachableCaseError } from '../errors/unreachable';
import type { Logger } from '../log/logger';
import type { ModelRegistry } from '../models/model-registry';
import { JobEndedError, JobHandedBackError, type JobContext, type RunOutcome } from '../runs/job-runner';
import type { RunService } from '../runs/run.service';
import { newActiveJob, type ActiveJob, type StopReason } from './active-job';
import { hasCheckpoint, moveIntoModels, versionFolderName } from './job-folders';
import type { JobQueue, JobRunOutcome } from './job-queue';
import type { ServedVersions } from './served-versions';
import { endEvent, stateEvent, type TrainingEvents } from './training-events';
import { commandOf } from './training-plan';
import { internalFailure, isFinalState, type JobEnd } from './training-job.state';
import type { EpochView, TrainingJobStore } from './training-job.store';
import { TrainingWorker } from './training-worker';
import type { TrainingWorkerMessage } from './worker/messages';

/** Step events are sent at most this often (a few per second at most). */
const STEP_EVENT_INTERVAL_MS = 250;
/** A worker asked to stop that has not stopped after this long is terminated. */
const STOP_TIMEOUT_MS = 30_000;

/** What the runner works with (TrainingJobServiceOptions has these and more). */
export interface TrainingJobRunnerOptions {
  config: TrainingConfig;
  /** The models root: finished versions move there and are served at once. */
  modelsDir: string;
  /** The backend the server chose: each worker uses the same. */
  backend: BackendName;
  store: TrainingJobStore;
  registry: ModelRegistry;
  runs: RunService;
  log: Logger;
  /** Where jobs wait for a slot: this process's (SQLite) or pg-boss's, shared by replicas (PostgreSQL). */
  queue: JobQueue;
  /** This replica's id, the owner it claims jobs as (src/runs/replica.ts). */
  replicaId: string;
  /** The scorers' folder (GANQL_SCORERS_DIR): a job's per-epoch evaluation (evalEvery) takes its dataset's scorer from there. */
  scorersDir: string;
}

/**
 * Runs the jobs the queue delivers to this process: claims each (once, of all replicas), trains it
 * as its TRAIN run on a worker thread of its own (src/training/training-session.ts), records its
 * epochs and kept versions, streams its progress, and ends it: a version, a failure with its code,
 * CANCELLED, INTERRUPTED, or handed back to the shared queue.
 */
export class TrainingJobRunner {
  /** Jobs this process has taken up and not yet settled, by id. */
  readonly active = new Map<string, ActiveJob>();
  /** Jobs training in this process (the queue delivers at most maxJobs; pg-boss may redeliver an expired one). */
  private running = 0;
  /** stopAll() was called: new jobs are refused. */
  stopping = false;

  constructor(
    private readonly o: TrainingJobRunnerOptions,
    private readonly events: TrainingEvents,
    private readonly versions: ServedVersions,
  ) {}

  /** A job the queue delivers: claimed for this replica (once, of all replicas), trained to its end as its run. */
  async runJob(jobId: string): Promise<JobRunOutcome> {
    if (this.stopping) return 'handed-back';
    if (this.running >= this.o.config.maxJobs) return 'busy';
    this.running += 1;
    try {
      const record = await this.o.store.claim(jobId, this.o.replicaId);
      if (!record) return 'ended'; // taken by another replica, cancelled, or ended: nothing to do
      const job = newActiveJob(record, hasCheckpoint(record.folder));
      this.active.set(job.id, job);
      try {
        if ((await this.o.store.watch([job.id]))[0]?.cancelRequested) job.stop = 'cancel';
        const started = await this.o.runs.resumeJob(job.id, (context) => this.execute(job, context));
        this.settleAfter(job, started.done);
      } catch (error) {
        // Could not even start (database trouble): back to the queue for any replica.
        this.active.delete(job.id);
        job.markSettled();
        this.o.log.error('could not start a training job; queued again', { jobId, error: error instanceof Error ? error.message : String(error) });
        await this.o.store.release(job.id, this.o.replicaId);
        return 'handed-back';
      }
      await job.settled;
      return job.handedBack ? 'handed-back' : 'ended';
    } finally {
      this.running -= 1;
    }
  }

  /** Refuses new jobs and asks every active one to stop (checkpointed); returns them, to wait on. */
  stopAll(): ActiveJob[] {
    this.stopping = true;
    const jobs = [...this.active.values()];
    for (const job of jobs) this.requestStop(job, 'shutdown');
    return jobs;
  }

  requestStop(job: ActiveJob, reason: StopReason): void {
    // A cancel already asked for stays a cancel when the server then stops.
    job.stop ??= reason;
    const phase = job.phase;
    switch (phase.kind) {
      case 'starting':
        // train() asks the worker to stop as soon as it exists.
        return;
      case 'running': {
        phase.worker.requestStop();
        const timer = setTimeout(() => {
          if (job.phase.kind !== 'running') return;
          this.o.log.warn('training worker did not stop in time; terminating it', { jobId: job.id, afterMs: STOP_TIMEOUT_MS });
          job.terminated = true;
          void phase.worker.terminate();
        }, STOP_TIMEOUT_MS);
        timer.unref();
        return;
      }
      case 'ending':
        return;
      default:
        throw new UnreachableCaseError(phase);
    }
  }

  /** Another replica owns the job now: stop at once and write nothing more. */
  fence(job: ActiveJob): void {
    if (job.fenced) return;
    job.fenced = true;
    this.o.log.warn('another replica took over this training job; stopping it here', { jobId: job.id });
    job.stop ??= 'shutdown';
    job.terminated = true;
    if (job.phase.kind === 'running') void job.phase.worker.terminate();
  }

  /** After the run is recorded: tell subscribers how the job ended, then forget it. */
  private settleAfter(job: ActiveJob, done: Promise<unknown>): void {
    void done.then(async () => {
      const record = await this.o.store.find(job.id).catch(() => undefined);
      if (record && isFinalState(record.state)) this.events.publish(endEvent(record));
      else if (record) this.events.publish(stateEvent(record));
      this.active.delete(job.id);
      job.markSettled();
    });
  }

  /** The background work of the job's run: train, record the end; returns or throws as the run should end. */
  private async execute(job: ActiveJob, context: JobContext): Promise<RunOutcome<string>> {
    const onAbort = (): void => this.requestStop(job, 'shutdown');
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
    let end: JobEnd;
    try {
      end = await this.train(job, context);
    } catch (error) {
      this.o.log.error('training job failed', { jobId: job.id, error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) });
      end = isGanqlError(error) ? { state: 'FAILED', code: error.code, message: error.message } : internalFailure(job.id);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
    }
    job.phase = { kind: 'ending' };
    if (job.fenced) throw new JobHandedBackError(`training job ${job.id}: another replica took it over`);
    // Replicas: a job this one stopped for its shutdown goes back to the shared queue, for another replica to resume.
    if (this.o.queue.shared && job.stop === 'shutdown' && end.state === 'INTERRUPTED' && (await this.o.store.release(job.id, this.o.replicaId))) {
      job.handedBack = true;
      this.o.log.info('training job handed back to the queue', { jobId: job.id, epochsCompleted: job.epochsCompleted });
      throw new JobHandedBackError(`training job ${job.id} handed back`);
    }
    job.end = end;
    // Ended with the run, in one transaction (RunService writes both).
    context.onEnd(this.o.store.finishStatement(job.id, end));
    return this.outcome(job, end, context);
  }

  /** How the run ends for a job end: a result, or the error RunService records. */
  private outcome(job: ActiveJob, end: JobEnd, context: JobContext): RunOutcome<string> {
    switch (end.state) {
      case 'SUCCEEDED':
        context.setModel(end.modelId);
        this.o.log.info('training job succeeded', { jobId: job.id, modelId: end.modelId, kept: job.keptModelIds });
        return { value: end.modelId, result: { modelId: end.modelId, keptModelIds: job.keptModelIds, epochs: job.epochsCompleted } };
      case 'FAILED':
        throw new GanqlError(end.code as ErrorCode, end.message);
      case 'CANCELLED':
      case 'INTERRUPTED':
        this.o.log.info(`training job ${end.state.toLowerCase()}`, { jobId: job.id, epochsCompleted: job.epochsCompleted, reason: end.message });
        throw new JobEndedError(end.state, end.message);
      default:
        throw new UnreachableCaseError(end);
    }
  }

  /** Runs the session on a worker thread and handles its messages in order; resolves with how it ended. */
  private async train(job: ActiveJob, context: JobContext): Promise<JobEnd> {
    // A resumed job's parent may have gone; that fails the job, not the server (NOT_FOUND).
    const parent = job.parentModelId === null || job.resume ? undefined : this.o.registry.get(job.parentModelId);
    await this.o.store.setRunning(job.id, new Date());
    // Its process died after moving the finished version into the models folder but before recording it: done.
    const finished = versionFolderName(job.name, job.version);
    if (existsSync(path.join(this.o.modelsDir, finished, 'manifest.json'))) {
      this.o.log.info('training job had finished before its process stopped; recording its version', { jobId: job.id, folder: finished });
      return { state: 'SUCCEEDED', modelId: (await this.versions.servable(finished)).id };
    }
    const progress = job.epochsCompleted / job.spec.epochs;
    this.events.publish({ type: 'STATE', jobId: job.id, state: 'RUNNING', progress, epochsCompleted: job.epochsCompleted });
    context.progress(progress);
    return new Promise<JobEnd>((resolve) => {
      let chain = Promise.resolve();
      const worker = new TrainingWorker(
        {
          backendOrder: [this.o.backend],
          threads: this.o.config.threads,
          spec: job.spec,
          outDir: job.folder,
          name: job.name,
          version: job.version,
          command: commandOf(job),
          resume: job.resume,
          scorersDir: this.o.scorersDir,
          ...(parent ? { fineTuneFrom: path.resolve(this.o.registry.root, parent.path) } : {}),
          keepRoot: this.o.modelsDir,
          keepPrefix: versionFolderName(job.name, job.version),
          stepIntervalMs: STEP_EVENT_INTERVAL_MS,
        },
        (message) => {
          chain = chain.then(async () => {
            const end = await this.handle(job, message, context).catch((error: unknown): JobEnd | undefined => {
              this.o.log.error('could not record a training event', {
                jobId: job.id,
                event: message.type,
                error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error),
              });
              // A lost epoch row is logged; a version that could not be added fails the job.
              return message.type === 'finished' ? internalFailure(job.id) : undefined;
            });
            if (end !== undefined) resolve(end);
          });
        },
      );
      job.phase = { kind: 'running', worker };
      if (job.stop !== undefined) this.requestStop(job, job.stop);
    });
  }

  /** One worker message: record it, publish it; returns the job's end for the last one. */
  private async handle(job: ActiveJob, message: TrainingWorkerMessage, context: JobContext): Promise<JobEnd | undefined> {
    const epochs = job.spec.epochs;
    switch (message.type) {
      case 'started':
        this.o.log.info('training job started', {
          jobId: job.id,
          backend: message.backend,
          kernels: message.kernels,
          resume: job.resume,
          epochsCompleted: job.epochsCompleted,
        });
        return undefined;
      case 'step': {
        const { epoch, step, stepsPerEpoch, generatorLoss, discriminatorLoss, imagesPerSecond } = message;
        const progress = (epoch - 1 + step / stepsPerEpoch) / epochs;
        context.progress(progress);
        this.events.publish({
          type: 'STEP',
          jobId: job.id,
          state: 'RUNNING',
          progress,
          epoch,
          step,
          stepsPerEpoch,
          generatorLoss,
          discriminatorLoss,
          imagesPerSecond,
        });
        return undefined;
      }
      case 'epoch': {
        const epoch: EpochView = { ...message.epoch, keptModelId: null };
        await this.o.store.saveEpoch(job.id, message.epoch);
        job.epochsCompleted = epoch.epoch;
        context.progress(epoch.epoch / epochs);
        this.events.publish({ type: 'EPOCH', jobId: job.id, state: 'RUNNING', progress: epoch.epoch / epochs, epoch });
        return undefined;
      }
      case 'kept': {
        const model = await this.versions.servable(path.basename(message.dir));
        await this.o.store.setKept(job.id, message.epoch, model.id);
        job.keptModelIds.push(model.id);
        this.o.log.info('training job kept a version', { jobId: job.id, epoch: message.epoch, modelId: model.id });
        return undefined;
      }
      case 'finished': {
        const folder = versionFolderName(job.name, job.version);
        // A version an earlier attempt moved there before its process died is the job's result; this copy goes.
        if (existsSync(path.join(this.o.modelsDir, folder, 'manifest.json'))) rmSync(message.dir, { recursive: true, force: true });
        else moveIntoModels(message.dir, this.o.modelsDir, folder);
        return { state: 'SUCCEEDED', modelId: (await this.versions.servable(folder)).id };
      }
      case 'stopped':
        return this.stoppedEnd(job, message.completedEpochs);
      case 'failed':
        // A worker terminated for not stopping in time ends as a stop would have.
        if (job.terminated && job.stop !== undefined) return this.stoppedEnd(job, job.epochsCompleted);
        this.o.log.error('training job failed', { jobId: job.id, code: message.code, error: message.message, stack: message.stack });
        return message.code !== undefined ? { state: 'FAILED', code: message.code, message: message.message } : internalFailure(job.id);
      default:
        throw new UnreachableCaseError(message);
    }
  }

  private stoppedEnd(job: ActiveJob, completedEpochs: number): JobEnd {
    const { epochs } = job.spec;
    if (job.stop === 'cancel') return { state: 'CANCELLED', message: `cancelled after ${completedEpochs} of ${epochs} epochs` };
    const resumable = hasCheckpoint(job.folder);
    const next = !resumable
      ? 'it has no checkpoint to resume from'
      : this.o.config.resume
        ? `it resumes from its checkpoint after epoch ${completedEpochs} when the server starts again`
        : 'resume is disabled (GANQL_RESUME_TRAINING=false), so it will not resume';
    return { state: 'INTERRUPTED', message: `the server stopped during epoch ${completedEpochs + 1} of ${epochs}; ${next}`, resumeOnStart: resumable };
  }
}
