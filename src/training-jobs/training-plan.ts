import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEBIAN_FASHION_MNIST_DIR } from '../data/fashion-mnist';
import { badInput } from '../errors/ganql-error';
import type { ScorerCatalog } from '../evaluation/scorer-catalog';
import { defaultKPlusOneFeatureLayer } from '../models/kplusone-mlp';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';
import { modelId } from '../models/model-registry';
import { evalScorer } from '../training/epoch-evaluation';
import { checkTrainingSpec, TRAINING_ARCHITECTURES, type TrainingDataset, type TrainingSpec, type TrainingSpecInput } from '../training/training-spec';
import { describe as show } from '../validation/checks';
import { jobFolder, MODEL_NAME_PATTERN, versionLabel } from './job-folders';
import type { NewTrainingJob } from './training-job.store';

/** Datasets by the names clients use (startTraining's `dataset`), and what each needs installed. */
export const TRAINING_DATASET_NAMES: Readonly<Record<string, TrainingDataset>> = Object.freeze({ MNIST: 'mnist', FASHION_MNIST: 'fashion-mnist' });

/** startTraining's input: the spec fields (defaults filled by checkTrainingSpec), a model name and the version to fine-tune. */
export interface TrainingRequest extends Omit<TrainingSpecInput, 'dataset'> {
  /** A client dataset name, checked here (TRAINING_DATASET_NAMES), so an unknown one is a recorded BAD_USER_INPUT. */
  dataset?: string | null;
  /** Model name of the versions the job makes; derived from the spec (or the fine-tuned model) when absent. */
  name?: string | null;
  /** A registry model id whose weights the job starts from. */
  fineTuneFrom?: string | null;
}

/**
 * Checks a request where it enters and plans the job `id` (to be recorded QUEUED): its spec (a
 * fine-tuned job keeps its parent's network unless told otherwise), model name, version and folder.
 * BAD_USER_INPUT saying what was expected; NOT_FOUND for an unknown fineTuneFrom.
 */
export function planTrainingJob(
  request: TrainingRequest,
  id: string,
  registry: ModelRegistry,
  jobsDir: string,
  scorers: { scorers: ScorerCatalog; dir: string },
): NewTrainingJob {
  const { name: requestedName, fineTuneFrom, dataset: datasetName, ...specInput } = request;
  const parent = fineTuneFrom === undefined || fineTuneFrom === null ? undefined : registry.resolve(fineTuneFrom);
  const dataset = datasetOf(datasetName, parent);
  const input: TrainingSpecInput = { ...dropNulls(specInput), dataset };
  // Said before the parent's network fills the defaults, which these modes would refuse in its stead.
  if (parent && (input.mode === 'autoencoder' || input.mode === 'supervised')) checkFromScratch(input.mode, parent);
  // Fine-tuning keeps the network: its architecture and latent size are the parent's unless given.
  if (parent) {
    if (input.architecture === undefined && (TRAINING_ARCHITECTURES as readonly string[]).includes(parent.manifest.architecture)) {
      input.architecture = parent.manifest.architecture as TrainingSpec['architecture'];
    }
    // A parent without a generator has no latent size to keep; checkFineTune refuses it below.
    if (parent.manifest.latentSize !== undefined) input.latentSize ??= parent.manifest.latentSize;
    // ... and a DCGAN's width.
    const parentFilters = parent.manifest.training.architectureConfig.generatorFilters;
    if (input.architecture === 'dcgan' && parent.manifest.architecture === 'dcgan' && typeof parentFilters === 'number') input.filters ??= parentFilters;
  }
  // K+1 trains G by feature matching: the MLP's layer is the paper's unless one is named.
  if (input.mode === 'kplusone' && input.architecture === 'mlp' && input.techniques?.featureMatching === undefined) {
    input.techniques = { ...input.techniques, featureMatching: { layer: defaultKPlusOneFeatureLayer() } };
  }
  const spec = checkTrainingSpec(input);
  if (parent) checkFineTune(spec, parent);
  // Training images are 28x28x1 for every dataset ganql trains on.
  if (spec.evalEvery !== undefined) evalScorer(spec, [28, 28, 1], scorers.scorers.list(), scorers.dir);
  const name = requestedName ?? parent?.manifest.name ?? defaultName(spec);
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw badInput(`name: expected 1..64 letters, digits, ".", "_" or "-", starting with a letter or digit, got ${show(name)}`);
  }
  const version = versionLabel(new Date(), id);
  if (registry.list().some((m) => m.id === modelId({ name, version })))
    throw badInput(`name: expected a new model version, got ${name}@${version}, which exists`);
  return { id, name, version, spec, parentModelId: parent?.id ?? null, folder: jobFolder(jobsDir, id) };
}

/** Recorded in the manifest as the command that trained the version. */
export function commandOf(job: { id: string; name: string; parentModelId: string | null; spec: TrainingSpec }): string {
  return `graphql startTraining (job ${job.id}): ${JSON.stringify({ name: job.name, fineTuneFrom: job.parentModelId, ...job.spec })}`;
}

function datasetOf(name: string | null | undefined, parent: LoadedModel | undefined): TrainingDataset {
  const names = Object.keys(TRAINING_DATASET_NAMES);
  if (name === undefined || name === null) {
    if (!parent) return 'mnist';
    const own = Object.values(TRAINING_DATASET_NAMES).find((d) => d === parent.manifest.dataset);
    if (own === undefined)
      throw badInput(
        `dataset: expected one of ${names.join(', ')} (model ${parent.id} was trained on ${show(parent.manifest.dataset)}, which ganql cannot train on), got none`,
      );
    return own;
  }
  const dataset = TRAINING_DATASET_NAMES[name];
  if (dataset === undefined) throw badInput(`dataset: expected one of ${names.join(', ')}, got ${show(name)}`);
  if (dataset === 'fashion-mnist' && !existsSync(path.join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'))) {
    throw badInput(
      `dataset: expected a dataset installed on this server, got FASHION_MNIST (install the Debian package dataset-fashion-mnist for ${DEBIAN_FASHION_MNIST_DIR})`,
    );
  }
  return dataset;
}

/** The modes that always train from scratch refuse a model to fine-tune. */
function checkFromScratch(mode: TrainingSpec['mode'], parent: LoadedModel): void {
  if (mode === 'autoencoder') throw badInput(`fineTuneFrom: expected none in AUTOENCODER mode (an autoencoder trains from scratch), got model ${parent.id}`);
  if (mode === 'supervised')
    throw badInput(`fineTuneFrom: expected none in SUPERVISED mode (the supervised baseline trains from scratch), got model ${parent.id}`);
}

function checkFineTune(spec: TrainingSpec, parent: LoadedModel): void {
  const m = parent.manifest;
  checkFromScratch(spec.mode, parent);
  if (m.generatorPath === undefined) {
    throw badInput(
      `fineTuneFrom: expected a model with a generator and a discriminator, got model ${parent.id}, which has no generator (a classifier trained in supervised mode)`,
    );
  }
  if (m.architecture !== spec.architecture) {
    throw badInput(`architecture: expected ${show(m.architecture)}, the architecture of model ${parent.id} to fine-tune, got ${show(spec.architecture)}`);
  }
  if (m.latentSize !== spec.latentSize)
    throw badInput(`latentSize: expected ${m.latentSize}, the latent size of model ${parent.id} to fine-tune, got ${spec.latentSize}`);
  const config = m.training.architectureConfig;
  if (spec.architecture === 'dcgan' && (config.generatorFilters !== spec.filters || config.discriminatorFilters !== spec.filters)) {
    throw badInput(
      `filters: expected ${show(config.generatorFilters)}, the filters of model ${parent.id} to fine-tune (discriminatorFilters ${show(config.discriminatorFilters)}), got ${show(spec.filters)}`,
    );
  }
  if (JSON.stringify(m.imageShape) !== JSON.stringify([28, 28, 1])) {
    throw badInput(`fineTuneFrom: expected a model of 28x28x1 images like dataset ${spec.dataset}, got model ${parent.id} of ${m.imageShape.join('x')}`);
  }
  if (m.discriminatorPath === undefined) throw badInput(`fineTuneFrom: expected a model shipped with its discriminator, got model ${parent.id} without one`);
  const isKPlusOne = m.classifier !== undefined;
  if (isKPlusOne !== (spec.mode === 'kplusone')) {
    throw badInput(
      `mode: expected ${isKPlusOne ? 'KPLUSONE' : 'GAN'}, the mode of model ${parent.id} to fine-tune, got ${spec.mode === 'kplusone' ? 'KPLUSONE' : 'GAN'}`,
    );
  }
}

/** "dcgan-mnist", "mlp-kplusone-fashion-mnist". */
function defaultName(spec: TrainingSpec): string {
  return [spec.architecture, ...(spec.mode === 'gan' ? [] : [spec.mode]), spec.dataset].join('-');
}

function dropNulls<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], null> } {
  // GraphQL sends absent optional fields as null or leaves them out; the spec wants them absent.
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]: Exclude<T[K], null> };
}
