import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../backend/backend';
import type { TrainingConfig } from '../config/config';
import { DEBIAN_FASHION_MNIST_DIR } from '../data/fashion-mnist';
import { ErrorCode } from '../errors/error-code';
import { badInput, GanqlError, isGanqlError } from '../errors/ganql-error';
import { UnreachableCaseError } from '../errors/unreachable';
import type { InferencePool } from '../inference/pool';
import { modelSpec } from '../inference/model-spec';
import type { Logger } from '../log/logger';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';
import { modelId } from '../models/model-registry';
import { defaultKPlusOneFeatureLayer } from '../models/kplusone-mlp';
import { JobEndedError, JobHandedBackError, type JobContext, type RunOutcome } from '../runs/job-runner';
import type { RunService } from '../runs/run.service';
import { MAX_RUNS_PAGE } from '../runs/run.store';
import { checkTrainingSpec, TRAINING_ARCHITECTURES, type TrainingDataset, type TrainingSpec, type TrainingSpecInput } from '../training/training-spec';
import { describe as show, expectIntInRange } from '../validation/checks';
import { hasCheckpoint, jobFolder, moveIntoModels, MODEL_NAME_PATTERN, versionFolderName, versionLabel } from './job-folders';
import type { JobQueue, JobRunOutcome } from './job-queue';
import { pollJobEvents } from './polled-events';
import { eventsOf, TrainingEvents, type TrainingEvent } from './training-events';
import { isFinalState, type JobEnd, type TrainingJobState } from './training-job.state';
import type { EpochView, TrainingJobPage, TrainingJobRecord, TrainingJobStore } from './training-job.store';
import { TrainingWorker } from './training-worker';
import type { TrainingWorkerMessage } from './worker/messages';

/** Datasets by the names clients use (startTraining's `dataset`), and what each needs installed. */
export const TRAINING_DATASET_NAMES: Readonly<Record<string, TrainingDataset>> = Object.freeze({ MNIST: 'mnist', FASHION_MNIST: 'fashion-mnist' });

/** Step events are sent at most this often (the issue: "at most a few per second"). */
const STEP_EVENT_INTERVAL_MS = 250;
/** A worker asked to stop that has not stopped after this long is terminated. */
const STOP_TIMEOUT_MS = 30_000;
/** cancelTraining waits this long for the job to stop before answering. */
const CANCEL_WAIT_MS = 30_000;
/** A subscriber on a replica that does not run the job reads its progress from the database this often. */
const POLL_EVENTS_MS = 500;

/** startTraining's input: the spec fields (defaults filled by checkTrainingSpec), a model name and the version to fine-tune. */
export interface TrainingRequest extends Omit<TrainingSpecInput, 'dataset'> {
  /** A client dataset name, checked here (TRAINING_DATASET_NAMES), so an unknown one is a recorded BAD_USER_INPUT. */
  dataset?: string | null;
  /** Model name of the versions the job makes; derived from the spec (or the fine-tuned model) when absent. */
  name?: string | null;
  /** A registry model id whose weights the job starts from. */
  fineTuneFrom?: string | null;
}

/** Stopping a job: on request (cancelTraining) or because the server stops. */
type StopReason = 'cancel' | 'shutdown';

/** Where a job this process owns is in its life. */
type JobPhase =
  | { kind: 'starting' }
  | { kind: 'running'; worker: TrainingWorker }
  | { kind: 'ending' };

/** A job this process runs (queued or on a worker). */
interface ActiveJob {
  id: string;
  spec: TrainingSpec;
  name: string;
  version: string;
  folder: string;
  parentModelId: string | null;
  /** Start the session from the job folder's checkpoint (a resumed job). */
  resume: boolean;
  phase: JobPhase;
  stop?: StopReason;
  /** Set once the worker was terminated for not stopping in time. */
  terminated: boolean;
  /** Another replica owns the job now (this one was taken for dead): nothing more is written. */
  fenced: boolean;
  /** Stopped by this replica's shutdown and put back in the shared queue for another replica. */
  handedBack: boolean;
  epochsCompleted: number;
  keptModelIds: string[];
  end?: JobEnd;
  /** Resolves once its run is recorded and its END event sent. */
  settled: Promise<void>;
  markSettled: () => void;
}

export interface TrainingJobServiceOptions {
  config: TrainingConfig;
  /** The models root: finished versions move there and are served at once. */
  modelsDir: string;
  /** The backend the server chose: each worker uses the same. */
  backend: BackendName;
  store: TrainingJobStore;
  registry: ModelRegistry;
  pool: InferencePool;
  runs: RunService;
  log: Logger;
  /** Where jobs wait for a slot: this process's (SQLite) or pg-boss's, shared by replicas (PostgreSQL). */
  queue: JobQueue;
  /** This replica's id, the owner it claims jobs as (src/runs/replica.ts). */
  replicaId: string;
  /** A QUEUED job no replica queued after this long is queued again (its replica died while queueing it). */
  replicaTimeoutMs: number;
}

/** A job a stopped process left behind that this one takes up (recoverTrainingJobs). */
export interface RecoveredJob {
  record: TrainingJobRecord;
  /** From its checkpoint; false: from the start (it had not started). */
  resume: boolean;
}

/**
 * Training jobs over GraphQL: each job is a TRAIN run whose work is a training session on a worker
 * thread of its own (src/training/training-session.ts), at most `maxJobs` at once, more QUEUED.
 * The main thread records its epochs, streams its progress to subscribers, and adds each finished
 * version (and each kept epoch) to the registry and the inference pool, servable at once.
 */
export class TrainingJobService {
  private readonly active = new Map<string, ActiveJob>();
  /** Jobs training in this process (the queue delivers at most maxJobs; pg-boss may redeliver an expired one). */
  private running = 0;
  /** stop() was called: new jobs are refused. */
  private stopping = false;
  /** Version folders being added here, which the model sync must leave alone. */
  private readonly adding = new Set<string>();
  /** Versions other replicas recorded that could not be loaded here: logged once. */
  private readonly syncRefused = new Set<string>();
  readonly events = new TrainingEvents();

  constructor(private readonly o: TrainingJobServiceOptions) {}

  /** Starts taking jobs from the queue. */
  async startQueue(): Promise<void> {
    await this.o.queue.start((jobId) => this.runJob(jobId));
  }

  /**
   * Checks the request and queues the job; resolves with it (QUEUED or RUNNING) at once. A refused
   * request is a FAILED TRAIN run and throws (BAD_USER_INPUT; NOT_FOUND for an unknown fineTuneFrom).
   */
  async start(request: TrainingRequest): Promise<TrainingJobRecord> {
    const id = await this.o.runs.startQueued({ kind: 'TRAIN', modelId: request.fineTuneFrom ?? undefined, parameters: request }, async (run) => {
      if (this.stopping) throw new GanqlError(ErrorCode.UNAVAILABLE, 'the server is shutting down; start the job again once it is back');
      await this.plan(request, run.runId);
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
    if (!this.active.has(id)) {
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
    const job = this.active.get(id);
    if (job) {
      this.requestStop(job, 'cancel');
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
    if (this.o.queue.shared && !this.active.has(jobId)) {
      const record = await this.o.store.get(jobId);
      if (isFinalState(record.state)) return eventsOf([endEvent(record)]);
      return pollJobEvents(this.o.store, jobId, POLL_EVENTS_MS, () => this.stopping);
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
    this.stopping = true;
    const jobs = [...this.active.values()];
    for (const job of jobs) this.requestStop(job, 'shutdown');
    const left = await this.o.queue.stop();
    await Promise.all(jobs.map((job) => job.settled));
    const end: JobEnd = { state: 'INTERRUPTED', message: 'the server stopped before the job left the queue; it starts when the server starts again', resumeOnStart: true };
    for (const id of left) {
      const record = await this.o.store.find(id);
      if (!record || record.state !== 'QUEUED') continue;
      await this.o.runs.markEnded(id, 'INTERRUPTED', end.message, [this.o.store.finishStatement(id, end)]);
      this.events.publish(endEvent(await this.o.store.get(id)));
    }
    this.events.close();
  }

  /**
   * Every heartbeat of a replica sharing PostgreSQL: stops its own jobs that were cancelled elsewhere
   * (or that another replica took over), puts the jobs of dead replicas back in the queue (they
   * resume from their checkpoints on whichever replica takes them), queues jobs a dead replica
   * accepted but never queued, and loads the versions other replicas finished.
   */
  async sweep(liveOwners: readonly string[]): Promise<void> {
    if (this.stopping) return;
    for (const seen of await this.o.store.watch([...this.active.keys()])) {
      const job = this.active.get(seen.id);
      if (!job) continue;
      if (seen.owner !== this.o.replicaId) this.fence(job);
      else if (seen.cancelRequested) this.requestStop(job, 'cancel');
    }
    for (const orphan of await this.o.store.ownedByDead(liveOwners)) {
      if (!(await this.o.store.release(orphan.id, orphan.owner))) continue;
      if (!this.o.config.resume) {
        const reason = 'resume disabled (GANQL_RESUME_TRAINING=false): the replica running this job stopped';
        await this.o.runs.markInterrupted(orphan.id, reason, [this.o.store.finishStatement(orphan.id, { state: 'INTERRUPTED', message: reason, resumeOnStart: false })]);
        this.o.log.warn('training job not resumed', { jobId: orphan.id, reason });
        continue;
      }
      await this.o.queue.requeue(orphan.id);
      this.o.log.warn('training job of a stopped replica queued again', { jobId: orphan.id, replica: orphan.owner });
    }
    for (const id of await this.o.store.queuedUnowned(new Date(Date.now() - this.o.replicaTimeoutMs))) await this.o.queue.ensure(id);
    await this.syncModels();
  }

  /** Loads the versions other replicas recorded (from the shared models folder) so this one serves them too. */
  async syncModels(): Promise<void> {
    for (const version of await this.o.registry.unloaded()) {
      if (this.adding.has(version.path) || this.syncRefused.has(version.id)) continue;
      if (!existsSync(path.join(this.o.registry.root, version.path, 'manifest.json'))) {
        this.syncRefused.add(version.id);
        this.o.log.warn('a version another replica recorded is not in this models folder; share GANQL_MODELS_DIR between replicas', { modelId: version.id, folder: version.path });
        continue;
      }
      try {
        await this.servable(version.path);
        this.o.log.info('model loaded from another replica', { id: version.id, folder: version.path });
      } catch (error) {
        this.syncRefused.add(version.id);
        this.o.log.error('model from another replica not loaded', { id: version.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** A job the queue delivers: claimed for this replica (once, of all replicas), trained to its end as its run. */
  private async runJob(jobId: string): Promise<JobRunOutcome> {
    if (this.stopping) return 'handed-back';
    if (this.running >= this.o.config.maxJobs) return 'busy';
    this.running += 1;
    try {
      const record = await this.o.store.claim(jobId, this.o.replicaId);
      // Taken by another replica, cancelled, or ended: nothing to do.
      if (!record) return 'ended';
      const job = this.newActiveJob(record, hasCheckpoint(record.folder));
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

  /** Resolves once the job is in a final state (polling the database). */
  private async ended(id: string): Promise<void> {
    for (;;) {
      const record = await this.o.store.find(id);
      if (!record || isFinalState(record.state)) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_EVENTS_MS));
    }
  }

  /** Another replica owns the job now: stop at once and write nothing more. */
  private fence(job: ActiveJob): void {
    if (job.fenced) return;
    job.fenced = true;
    this.o.log.warn('another replica took over this training job; stopping it here', { jobId: job.id });
    job.stop ??= 'shutdown';
    job.terminated = true;
    if (job.phase.kind === 'running') void job.phase.worker.terminate();
  }

  private activeJob(job: ActiveJob | undefined): ActiveJob {
    if (!job) throw new Error('TrainingJobService: the job was not planned');
    return job;
  }

  /** Checks the request where it enters and records the job QUEUED. */
  private async plan(request: TrainingRequest, id: string): Promise<void> {
    const { name: requestedName, fineTuneFrom, dataset: datasetName, ...specInput } = request;
    const parent = fineTuneFrom === undefined || fineTuneFrom === null ? undefined : this.o.registry.get(fineTuneFrom);
    const dataset = this.datasetOf(datasetName, parent);
    const input: TrainingSpecInput = { ...dropNulls(specInput), dataset };
    // Fine-tuning keeps the network: its architecture and latent size are the parent's unless given.
    if (parent) {
      if (input.architecture === undefined && (TRAINING_ARCHITECTURES as readonly string[]).includes(parent.manifest.architecture)) {
        input.architecture = parent.manifest.architecture as TrainingSpec['architecture'];
      }
      input.latentSize ??= parent.manifest.latentSize;
    }
    // K+1 trains G by feature matching: the MLP's layer is the paper's unless one is named.
    if (input.mode === 'kplusone' && input.architecture === 'mlp' && input.techniques?.featureMatching === undefined) {
      input.techniques = { ...input.techniques, featureMatching: { layer: defaultKPlusOneFeatureLayer() } };
    }
    const spec = checkTrainingSpec(input);
    if (parent) checkFineTune(spec, parent);
    const name = requestedName ?? parent?.manifest.name ?? defaultName(spec);
    if (!MODEL_NAME_PATTERN.test(name)) {
      throw badInput(`name: expected 1..64 letters, digits, ".", "_" or "-", starting with a letter or digit, got ${show(name)}`);
    }
    const version = versionLabel(new Date(), id);
    if (this.o.registry.list().some((m) => m.id === modelId({ name, version }))) throw badInput(`name: expected a new model version, got ${name}@${version}, which exists`);
    const record = { id, name, version, spec, parentModelId: parent?.id ?? null, folder: jobFolder(this.o.config.jobsDir, id) };
    await this.o.store.create(record);
  }

  private datasetOf(name: string | null | undefined, parent: LoadedModel | undefined): TrainingDataset {
    const names = Object.keys(TRAINING_DATASET_NAMES);
    if (name === undefined || name === null) {
      if (!parent) return 'mnist';
      const own = Object.values(TRAINING_DATASET_NAMES).find((d) => d === parent.manifest.dataset);
      if (own === undefined) throw badInput(`dataset: expected one of ${names.join(', ')} (model ${parent.id} was trained on ${show(parent.manifest.dataset)}, which ganql cannot train on), got none`);
      return own;
    }
    const dataset = TRAINING_DATASET_NAMES[name];
    if (dataset === undefined) throw badInput(`dataset: expected one of ${names.join(', ')}, got ${show(name)}`);
    if (dataset === 'fashion-mnist' && !existsSync(path.join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'))) {
      throw badInput(`dataset: expected a dataset installed on this server, got FASHION_MNIST (install the Debian package dataset-fashion-mnist for ${DEBIAN_FASHION_MNIST_DIR})`);
    }
    return dataset;
  }

  private newActiveJob(record: Pick<TrainingJobRecord, 'id' | 'spec' | 'name' | 'version' | 'folder' | 'parentModelId' | 'epochsCompleted' | 'keptModelIds'>, resume: boolean): ActiveJob {
    let markSettled = (): void => undefined;
    const settled = new Promise<void>((resolve) => (markSettled = resolve));
    return {
      id: record.id,
      spec: record.spec,
      name: record.name,
      version: record.version,
      folder: record.folder,
      parentModelId: record.parentModelId,
      resume,
      phase: { kind: 'starting' },
      terminated: false,
      fenced: false,
      handedBack: false,
      epochsCompleted: record.epochsCompleted,
      keptModelIds: [...record.keptModelIds],
      settled,
      markSettled,
    };
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

  private requestStop(job: ActiveJob, reason: StopReason): void {
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

  /** Runs the session on a worker thread and handles its messages in order; resolves with how it ended. */
  private async train(job: ActiveJob, context: JobContext): Promise<JobEnd> {
    // A resumed job's parent may have gone; that fails the job, not the server (NOT_FOUND).
    const parent = job.parentModelId === null || job.resume ? undefined : this.o.registry.get(job.parentModelId);
    await this.o.store.setRunning(job.id, new Date());
    // Its process died after moving the finished version into the models folder but before recording it: done.
    const finished = versionFolderName(job.name, job.version);
    if (existsSync(path.join(this.o.modelsDir, finished, 'manifest.json'))) {
      this.o.log.info('training job had finished before its process stopped; recording its version', { jobId: job.id, folder: finished });
      return { state: 'SUCCEEDED', modelId: (await this.servable(finished)).id };
    }
    const progress = job.epochsCompleted / job.spec.epochs;
    this.events.publish({ type: 'STATE', jobId: job.id, state: 'RUNNING', progress, epochsCompleted: job.epochsCompleted });
    context.progress(progress);
    return new Promise<JobEnd>((resolve) => {
      let chain = Promise.resolve();
      const worker = new TrainingWorker(
        {
          backendOrder: [this.o.backend],
          spec: job.spec,
          outDir: job.folder,
          name: job.name,
          version: job.version,
          command: commandOf(job),
          resume: job.resume,
          ...(parent ? { fineTuneFrom: path.resolve(this.o.registry.root, parent.path) } : {}),
          keepRoot: this.o.modelsDir,
          keepPrefix: versionFolderName(job.name, job.version),
          stepIntervalMs: STEP_EVENT_INTERVAL_MS,
        },
        (message) => {
          chain = chain.then(async () => {
            const end = await this.handle(job, message, context).catch((error: unknown): JobEnd | undefined => {
              this.o.log.error('could not record a training event', { jobId: job.id, event: message.type, error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) });
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
        this.o.log.info('training job started', { jobId: job.id, backend: message.backend, resume: job.resume, epochsCompleted: job.epochsCompleted });
        return undefined;
      case 'step': {
        const progress = (message.epoch - 1 + message.step / message.stepsPerEpoch) / epochs;
        context.progress(progress);
        this.events.publish({ type: 'STEP', jobId: job.id, state: 'RUNNING', progress, ...pick(message) });
        return undefined;
      }
      case 'epoch': {
        const epoch: EpochView = {
          epoch: message.epoch,
          generatorLoss: message.generatorLoss,
          discriminatorLoss: message.discriminatorLoss,
          dAccuracyReal: message.dAccuracyReal,
          dAccuracyFake: message.dAccuracyFake,
          testError: message.testError,
          seconds: message.seconds,
          samplesPng: message.samplesPng,
          keptModelId: null,
        };
        await this.o.store.saveEpoch(job.id, epoch);
        job.epochsCompleted = message.epoch;
        context.progress(message.epoch / epochs);
        this.events.publish({ type: 'EPOCH', jobId: job.id, state: 'RUNNING', progress: message.epoch / epochs, epoch });
        return undefined;
      }
      case 'kept': {
        const model = await this.servable(path.basename(message.dir));
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
        return { state: 'SUCCEEDED', modelId: (await this.servable(folder)).id };
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
    const epochs = job.spec.epochs;
    if (job.stop === 'cancel') return { state: 'CANCELLED', message: `cancelled after ${completedEpochs} of ${epochs} epochs` };
    const resumable = hasCheckpoint(job.folder);
    const next = !resumable
      ? 'it has no checkpoint to resume from'
      : this.o.config.resume
        ? `it resumes from its checkpoint after epoch ${completedEpochs} when the server starts again`
        : 'resume is disabled (GANQL_RESUME_TRAINING=false), so it will not resume';
    return { state: 'INTERRUPTED', message: `the server stopped during epoch ${completedEpochs + 1} of ${epochs}; ${next}`, resumeOnStart: resumable };
  }

  /**
   * The version in this models-root folder, servable once this resolves: registered and loaded into
   * the pool, or the one already registered (an earlier attempt of the job, or another replica, added it).
   */
  private async servable(folder: string): Promise<LoadedModel> {
    const known = this.o.registry.list().find((m) => m.path === folder);
    if (known) return known;
    this.adding.add(folder);
    try {
      const model = await this.o.registry.add(folder);
      await this.o.pool.loadModel(modelSpec(model, this.o.registry.root));
      return model;
    } finally {
      this.adding.delete(folder);
    }
  }
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
    await runs.markInterrupted(record.id, reason, [store.finishStatement(record.id, { state: 'INTERRUPTED', message: reason, resumeOnStart: false }, record.finishedAt ?? new Date())]);
    log.warn('training job not resumed', { jobId: record.id, reason });
  }
  return recovered;
}

function checkFineTune(spec: TrainingSpec, parent: LoadedModel): void {
  const m = parent.manifest;
  if (spec.mode === 'autoencoder') throw badInput(`fineTuneFrom: expected none in AUTOENCODER mode (an autoencoder trains from scratch), got model ${parent.id}`);
  if (m.architecture !== spec.architecture) {
    throw badInput(`architecture: expected ${show(m.architecture)}, the architecture of model ${parent.id} to fine-tune, got ${show(spec.architecture)}`);
  }
  if (m.latentSize !== spec.latentSize) throw badInput(`latentSize: expected ${m.latentSize}, the latent size of model ${parent.id} to fine-tune, got ${spec.latentSize}`);
  if (JSON.stringify(m.imageShape) !== JSON.stringify([28, 28, 1])) {
    throw badInput(`fineTuneFrom: expected a model of 28x28x1 images like dataset ${spec.dataset}, got model ${parent.id} of ${m.imageShape.join('x')}`);
  }
  if (m.discriminatorPath === undefined) throw badInput(`fineTuneFrom: expected a model shipped with its discriminator, got model ${parent.id} without one`);
  const isKPlusOne = m.classifier !== undefined;
  if (isKPlusOne !== (spec.mode === 'kplusone')) {
    throw badInput(`mode: expected ${isKPlusOne ? 'KPLUSONE' : 'GAN'}, the mode of model ${parent.id} to fine-tune, got ${spec.mode === 'kplusone' ? 'KPLUSONE' : 'GAN'}`);
  }
}

/** "dcgan-mnist", "mlp-kplusone-fashion-mnist". */
function defaultName(spec: TrainingSpec): string {
  return [spec.architecture, ...(spec.mode === 'gan' ? [] : [spec.mode]), spec.dataset].join('-');
}

/** Recorded in the manifest as the command that trained the version. */
function commandOf(job: ActiveJob): string {
  return `graphql startTraining (job ${job.id}): ${JSON.stringify({ name: job.name, fineTuneFrom: job.parentModelId, ...job.spec })}`;
}

function dropNulls<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], null> } {
  // GraphQL sends absent optional fields as null or leaves them out; the spec wants them absent.
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]: Exclude<T[K], null> };
}

function pick(m: Extract<TrainingWorkerMessage, { type: 'step' }>): { epoch: number; step: number; stepsPerEpoch: number; generatorLoss: number; discriminatorLoss: number } {
  return { epoch: m.epoch, step: m.step, stepsPerEpoch: m.stepsPerEpoch, generatorLoss: m.generatorLoss, discriminatorLoss: m.discriminatorLoss };
}

/** Resolves when `promise` settles or after `ms`, whichever is first. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function internalFailure(jobId: string): JobEnd {
  return { state: 'FAILED', code: ErrorCode.INTERNAL_SERVER_ERROR, message: `training failed with an internal error; see the server log for job ${jobId}` };
}

function endEvent(record: TrainingJobRecord): TrainingEvent {
  if (!isFinalState(record.state)) return stateEvent(record);
  return { type: 'END', jobId: record.id, state: record.state, progress: record.progress, epochsCompleted: record.epochsCompleted, modelId: record.modelId, error: record.error };
}

function stateEvent(record: TrainingJobRecord): TrainingEvent {
  const state = record.state === 'QUEUED' ? 'QUEUED' : 'RUNNING';
  return { type: 'STATE', jobId: record.id, state, progress: record.progress, epochsCompleted: record.epochsCompleted };
}
