// Over 300 lines on purpose: every read and write of the TrainingJob and TrainingEpoch tables is here, so their SQL has one home.
import type { Prisma, Statement } from '../db/database';
import { notFound } from '../errors/ganql-error';
import type { TrainingSpec } from '../training/training-spec';
import { endMessage, isJobState, type JobEnd, type TrainingJobState } from './training-job.state';

/** A training job as stored, with its run's progress. */
export interface TrainingJobRecord {
  /** The id of its TRAIN run too. */
  id: string;
  state: TrainingJobState;
  name: string;
  version: string;
  spec: TrainingSpec;
  parentModelId: string | null;
  modelId: string | null;
  /** Versions kept at epochs (spec.keepEvery), oldest first. */
  keptModelIds: string[];
  folder: string;
  epochsCompleted: number;
  /** 0..1, from its run. */
  progress: number;
  error: string | null;
  resumeOnStart: boolean;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** One completed epoch of a job: what its worker reports, and what the store records. */
export interface JobEpoch {
  epoch: number;
  generatorLoss: number;
  discriminatorLoss: number;
  dAccuracyReal: number;
  dAccuracyFake: number;
  testError: number | null;
  seconds: number;
  /** The epoch's mean training images per second; null for epochs recorded before it was measured. */
  imagesPerSecond: number | null;
  /** spec.evalEvery, on the epochs it names: the Inception Score (mean and std over splits) and FID of its samples; else null. */
  inceptionScore: number | null;
  inceptionScoreStd: number | null;
  fid: number | null;
  /** The PNG grid of samples from the job's fixed noise after this epoch. */
  samplesPng: Uint8Array;
}

/** A recorded epoch, with the version kept at it. */
export interface EpochView extends JobEpoch {
  keptModelId: string | null;
}

export interface TrainingJobPage {
  jobs: TrainingJobRecord[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface NewTrainingJob {
  id: string;
  name: string;
  version: string;
  spec: TrainingSpec;
  parentModelId: string | null;
  folder: string;
}

const WITH_PROGRESS = {
  run: { select: { progress: true, status: true } },
  epochs: { where: { keptModelId: { not: null } }, select: { keptModelId: true }, orderBy: { epoch: 'asc' as const } },
};

type JobRow = Awaited<ReturnType<Prisma['trainingJob']['findUniqueOrThrow']>> & {
  run: { progress: number | null; status: string };
  epochs: { keptModelId: string | null }[];
};

function toRecord(row: JobRow): TrainingJobRecord {
  // Only ever written from TrainingJobState by this store.
  if (!isJobState(row.state)) throw new Error(`training job ${row.id}: unknown state ${JSON.stringify(row.state)} in the database`);
  return {
    id: row.id,
    state: row.state,
    name: row.name,
    version: row.version,
    // Written by create() from a checked TrainingSpec.
    spec: JSON.parse(row.spec) as TrainingSpec,
    parentModelId: row.parentModelId,
    modelId: row.modelId,
    keptModelIds: row.epochs.flatMap((e) => (e.keptModelId === null ? [] : [e.keptModelId])),
    folder: row.folder,
    epochsCompleted: row.epochsCompleted,
    progress: row.state === 'SUCCEEDED' ? 1 : (row.run.progress ?? 0),
    error: row.error,
    resumeOnStart: row.resumeOnStart,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** Every read and write of the TrainingJob and TrainingEpoch tables. */
export class TrainingJobStore {
  constructor(private readonly prisma: Prisma) {}

  async create(job: NewTrainingJob): Promise<void> {
    await this.prisma.trainingJob.create({
      data: {
        id: job.id,
        state: 'QUEUED',
        name: job.name,
        version: job.version,
        spec: JSON.stringify(job.spec),
        parentModelId: job.parentModelId,
        folder: job.folder,
      },
    });
  }

  async find(id: string): Promise<TrainingJobRecord | undefined> {
    const row = await this.prisma.trainingJob.findUnique({ where: { id }, include: WITH_PROGRESS });
    return row ? toRecord(row) : undefined;
  }

  async get(id: string): Promise<TrainingJobRecord> {
    const job = await this.find(id);
    if (!job) throw notFound('training job', id);
    return job;
  }

  /** Newest first; `after` is the id of the last job of the previous page. */
  async list(state: TrainingJobState | undefined, first: number, after: string | undefined): Promise<TrainingJobPage> {
    const where = state === undefined ? {} : { state };
    if (after !== undefined && (await this.prisma.trainingJob.count({ where: { id: after } })) === 0) throw notFound('training job cursor', after);
    const [rows, totalCount] = await Promise.all([
      this.prisma.trainingJob.findMany({
        where,
        include: WITH_PROGRESS,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: first + 1,
        ...(after !== undefined ? { cursor: { id: after }, skip: 1 } : {}),
      }),
      this.prisma.trainingJob.count({ where }),
    ]);
    return { jobs: rows.slice(0, first).map(toRecord), hasNextPage: rows.length > first, totalCount };
  }

  /** Jobs a stopped process left behind: QUEUED or RUNNING, or INTERRUPTED by a shutdown that promised to resume them. Oldest first. */
  async unfinished(): Promise<TrainingJobRecord[]> {
    const rows = await this.prisma.trainingJob.findMany({
      where: { OR: [{ state: { in: ['QUEUED', 'RUNNING'] } }, { state: 'INTERRUPTED', resumeOnStart: true }] },
      include: WITH_PROGRESS,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toRecord);
  }

  async setQueued(id: string): Promise<void> {
    await this.prisma.trainingJob.update({ where: { id }, data: { state: 'QUEUED', owner: null, error: null, resumeOnStart: false, finishedAt: null } });
  }

  /**
   * Takes up a QUEUED job for `owner` (a replica id), atomically: of several replicas claiming one
   * job, exactly one gets it (RUNNING, its starts counted). Undefined when it is not QUEUED (taken,
   * cancelled) or is owned.
   */
  async claim(id: string, owner: string): Promise<TrainingJobRecord | undefined> {
    const { count } = await this.prisma.trainingJob.updateMany({
      where: { id, state: 'QUEUED', owner: null },
      data: { state: 'RUNNING', owner, starts: { increment: 1 } },
    });
    return count === 1 ? this.get(id) : undefined;
  }

  /** Puts a job `owner` had back in the queue (QUEUED, no owner); false if `owner` no longer has it. */
  async release(id: string, owner: string): Promise<boolean> {
    const { count } = await this.prisma.trainingJob.updateMany({
      where: { id, owner, state: { in: ['QUEUED', 'RUNNING'] } },
      data: { state: 'QUEUED', owner: null },
    });
    return count === 1;
  }

  /** Ends a job no replica has taken up yet as CANCELLED; false if it is not QUEUED (taken, ended). */
  /**
   * The claim that cancels a job still QUEUED and taken by no replica: it changes no row otherwise
   * (expectChange), so the transaction it is part of (with the run's end) does nothing.
   */
  cancelQueuedStatement(id: string, message: string): Statement {
    return {
      sql: 'UPDATE "TrainingJob" SET "state" = ?, "error" = ?, "finishedAt" = ? WHERE "id" = ? AND "state" = ? AND "owner" IS NULL',
      params: ['CANCELLED', message, new Date(), id, 'QUEUED'],
      expectChange: true,
    };
  }

  /** For the replica that runs the job: stop it as CANCELLED (it sees this on its next heartbeat). */
  async requestCancel(id: string): Promise<void> {
    await this.prisma.trainingJob.updateMany({ where: { id, state: { in: ['QUEUED', 'RUNNING'] } }, data: { cancelRequested: true } });
  }

  /** Who owns each of these jobs now, and whether a cancel was asked for. */
  async watch(ids: readonly string[]): Promise<{ id: string; owner: string | null; cancelRequested: boolean }[]> {
    if (ids.length === 0) return [];
    return this.prisma.trainingJob.findMany({ where: { id: { in: [...ids] } }, select: { id: true, owner: true, cancelRequested: true } });
  }

  /** QUEUED or RUNNING jobs whose owner is not among the live replicas: their replica died. */
  async ownedByDead(liveOwners: readonly string[]): Promise<{ id: string; owner: string; cancelRequested: boolean }[]> {
    const rows = await this.prisma.trainingJob.findMany({
      where: { state: { in: ['QUEUED', 'RUNNING'] }, owner: { not: null, notIn: [...liveOwners] } },
      select: { id: true, owner: true, cancelRequested: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    // Filtered on owner not null just above.
    return rows.map((r) => ({ ...r, owner: r.owner as string }));
  }

  /** Ids of QUEUED jobs that no replica owns, created before `before`, oldest first. */
  async queuedUnowned(before: Date): Promise<string[]> {
    const rows = await this.prisma.trainingJob.findMany({
      where: { state: 'QUEUED', owner: null, createdAt: { lt: before } },
      select: { id: true },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map((r) => r.id);
  }

  /** How many times replicas took the job up from the queue. */
  async starts(id: string): Promise<number> {
    return (await this.prisma.trainingJob.findUniqueOrThrow({ where: { id }, select: { starts: true } })).starts;
  }

  /** RUNNING from now; startedAt keeps the first start across resumes. */
  async setRunning(id: string, startedAt: Date): Promise<void> {
    await this.prisma.trainingJob.updateMany({ where: { id, startedAt: null }, data: { startedAt } });
    await this.prisma.trainingJob.update({ where: { id }, data: { state: 'RUNNING' } });
  }

  /** Records a completed epoch (again, if a resumed job repeats one) and the job's count. */
  async saveEpoch(jobId: string, epoch: JobEpoch): Promise<void> {
    const data = {
      generatorLoss: epoch.generatorLoss,
      discriminatorLoss: epoch.discriminatorLoss,
      dAccuracyReal: epoch.dAccuracyReal,
      dAccuracyFake: epoch.dAccuracyFake,
      testError: epoch.testError,
      seconds: epoch.seconds,
      imagesPerSecond: epoch.imagesPerSecond,
      inceptionScore: epoch.inceptionScore,
      inceptionScoreStd: epoch.inceptionScoreStd,
      fid: epoch.fid,
      // Prisma's Bytes want a Uint8Array over a plain ArrayBuffer: a copy of its own.
      samples: new Uint8Array(epoch.samplesPng),
    };
    await this.prisma.$transaction([
      this.prisma.trainingEpoch.upsert({ where: { jobId_epoch: { jobId, epoch: epoch.epoch } }, create: { jobId, epoch: epoch.epoch, ...data }, update: data }),
      this.prisma.trainingJob.update({ where: { id: jobId }, data: { epochsCompleted: epoch.epoch } }),
    ]);
  }

  async setKept(jobId: string, epoch: number, modelId: string): Promise<void> {
    await this.prisma.trainingEpoch.update({ where: { jobId_epoch: { jobId, epoch } }, data: { keptModelId: modelId } });
  }

  /**
   * The write that ends the job row, for RunService to run in one transaction with its run's end
   * (JobContext.onEnd): a reader never sees the job ended and its run still RUNNING, or the reverse.
   */
  finishStatement(id: string, end: JobEnd, finishedAt: Date = new Date()): Statement {
    const set = ['"state" = ?', '"error" = ?', '"resumeOnStart" = ?', '"owner" = NULL', '"finishedAt" = ?'];
    const params: unknown[] = [end.state, endMessage(end), end.state === 'INTERRUPTED' && end.resumeOnStart, finishedAt];
    if (end.state === 'SUCCEEDED') {
      set.push('"modelId" = ?');
      params.push(end.modelId);
    }
    return { sql: `UPDATE "TrainingJob" SET ${set.join(', ')} WHERE "id" = ?`, params: [...params, id] };
  }

  async finish(id: string, end: JobEnd, finishedAt: Date = new Date()): Promise<void> {
    await this.prisma.trainingJob.update({
      where: { id },
      data: {
        state: end.state,
        error: endMessage(end),
        modelId: end.state === 'SUCCEEDED' ? end.modelId : undefined,
        resumeOnStart: end.state === 'INTERRUPTED' && end.resumeOnStart,
        owner: null,
        finishedAt,
      },
    });
  }

  /** Its completed epochs after epoch `after` (0: all), oldest first. */
  async epochs(jobId: string, after = 0): Promise<EpochView[]> {
    const rows = await this.prisma.trainingEpoch.findMany({ where: { jobId, epoch: { gt: after } }, orderBy: { epoch: 'asc' } });
    return rows.map((r) => ({
      epoch: r.epoch,
      generatorLoss: r.generatorLoss,
      discriminatorLoss: r.discriminatorLoss,
      dAccuracyReal: r.dAccuracyReal,
      dAccuracyFake: r.dAccuracyFake,
      testError: r.testError,
      seconds: r.seconds,
      imagesPerSecond: r.imagesPerSecond,
      inceptionScore: r.inceptionScore,
      inceptionScoreStd: r.inceptionScoreStd,
      fid: r.fid,
      samplesPng: r.samples,
      keptModelId: r.keptModelId,
    }));
  }
}
