import { pngDataUrl } from '../../images/png';
import { UnreachableCaseError } from '../../errors/unreachable';
import type { TrainingEvent } from '../../training-jobs/training-events';
import { TRAINING_DATASET_NAMES, type TrainingRequest } from '../../training-jobs/training-job.service';
import type { EpochView, TrainingJobPage, TrainingJobRecord } from '../../training-jobs/training-job.store';
import type { TrainingSpec as Spec, TrainingTechniques as Techniques } from '../../training/training-spec';
import type { Image } from '../common/image.type';
import type { StartTrainingInput, TrainingTechniquesInput } from './training.args';
import type { TrainingEpoch, TrainingJob, TrainingJobConnection, TrainingProgressEvent, TrainingSpec, TrainingTechniques } from './training.type';

/** The input as the service takes it: absent and null fields left out, techniques as plain objects. */
export function toTrainingRequest(input: StartTrainingInput): TrainingRequest {
  const { techniques, ...rest } = input;
  const request = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== undefined)) as TrainingRequest;
  if (techniques !== null && techniques !== undefined) request.techniques = toTechniques(techniques);
  return request;
}

function toTechniques(t: TrainingTechniquesInput): Techniques {
  const out: Techniques = {};
  if (t.labelSmoothing !== null && t.labelSmoothing !== undefined) out.labelSmoothing = t.labelSmoothing;
  if (t.featureMatching) {
    const { layer, batch } = t.featureMatching;
    out.featureMatching = batch === null || batch === undefined ? { layer } : { layer, batch };
  }
  if (t.historicalAveraging) out.historicalAveraging = { weight: t.historicalAveraging.weight };
  if (t.minibatchDiscrimination) out.minibatchDiscrimination = { kernels: t.minibatchDiscrimination.kernels, kernelDim: t.minibatchDiscrimination.kernelDim };
  if (t.virtualBatchNorm) out.virtualBatchNorm = { referenceSize: t.virtualBatchNorm.referenceSize };
  return out;
}

/** The client's name of a spec dataset ("fashion-mnist" -> "FASHION_MNIST"). */
function datasetName(dataset: string): string {
  return Object.entries(TRAINING_DATASET_NAMES).find(([, d]) => d === dataset)?.[0] ?? dataset;
}

function toSpec(spec: Spec): TrainingSpec {
  const t = spec.techniques;
  const techniques: TrainingTechniques = {
    labelSmoothing: t.labelSmoothing ?? null,
    featureMatching:
      t.featureMatching === undefined ? null : { layer: t.featureMatching.layer, batch: spec.mode === 'kplusone' ? (t.featureMatching.batch ?? 'step') : null },
    historicalAveraging: t.historicalAveraging ?? null,
    minibatchDiscrimination: t.minibatchDiscrimination ?? null,
    virtualBatchNorm: t.virtualBatchNorm ?? null,
  };
  return {
    mode: spec.mode,
    architecture: spec.architecture,
    dataset: datasetName(spec.dataset),
    generatorLoss: spec.generatorLoss,
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    seed: spec.seed,
    learningRate: spec.learningRate,
    beta1: spec.beta1,
    k: spec.k,
    latentSize: spec.latentSize,
    limit: spec.limit ?? null,
    labelsPerClass: spec.labelsPerClass ?? null,
    keepEvery: spec.keepEvery ?? null,
    filters: spec.filters ?? null,
    generatorAverage: spec.generatorAverage ?? null,
    evalEvery: spec.evalEvery ?? null,
    evalSamples: spec.evalSamples ?? null,
    techniques,
  };
}

export function toTrainingJob(record: TrainingJobRecord): TrainingJob {
  return {
    id: record.id,
    state: record.state,
    name: record.name,
    version: record.version,
    spec: toSpec(record.spec),
    parentModelId: record.parentModelId,
    modelId: record.modelId,
    keptModelIds: record.keptModelIds,
    epochsCompleted: record.epochsCompleted,
    progress: record.progress,
    error: record.error,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
  };
}

export function toTrainingJobConnection(page: TrainingJobPage): TrainingJobConnection {
  const edges = page.jobs.map((job) => ({ cursor: job.id, node: toTrainingJob(job) }));
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, totalCount: page.totalCount };
}

/** Width, height and channels from a PNG's IHDR chunk (bytes 16..25), without decoding it. */
function pngImage(png: Uint8Array): Image {
  const bytes = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  // Colour type 0 is greyscale, 2 RGB: the only two encodePng writes.
  const channels = bytes[25] === 0 ? 1 : 3;
  return { mimeType: 'image/png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), channels, dataUrl: pngDataUrl(bytes) };
}

export function toTrainingEpoch(view: EpochView): TrainingEpoch {
  return {
    epoch: view.epoch,
    generatorLoss: view.generatorLoss,
    discriminatorLoss: view.discriminatorLoss,
    dAccuracyReal: view.dAccuracyReal,
    dAccuracyFake: view.dAccuracyFake,
    testError: view.testError,
    seconds: view.seconds,
    imagesPerSecond: view.imagesPerSecond,
    inceptionScore: view.inceptionScore,
    inceptionScoreStd: view.inceptionScoreStd,
    fid: view.fid,
    samples: pngImage(view.samplesPng),
    keptModelId: view.keptModelId,
  };
}

export function toTrainingEvent(event: TrainingEvent): TrainingProgressEvent {
  const base = { jobId: event.jobId, state: event.state, progress: event.progress, epochsCompleted: null, step: null, epoch: null, modelId: null, error: null };
  switch (event.type) {
    case 'STATE':
      return { ...base, type: 'STATE', epochsCompleted: event.epochsCompleted };
    case 'STEP':
      return {
        ...base,
        type: 'STEP',
        step: {
          epoch: event.epoch,
          step: event.step,
          stepsPerEpoch: event.stepsPerEpoch,
          generatorLoss: event.generatorLoss,
          discriminatorLoss: event.discriminatorLoss,
          imagesPerSecond: event.imagesPerSecond,
        },
      };
    case 'EPOCH':
      return { ...base, type: 'EPOCH', epochsCompleted: event.epoch.epoch, epoch: toTrainingEpoch(event.epoch) };
    case 'END':
      return { ...base, type: 'END', epochsCompleted: event.epochsCompleted, modelId: event.modelId, error: event.error };
    default:
      throw new UnreachableCaseError(event);
  }
}
