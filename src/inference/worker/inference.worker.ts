import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/backend';
import { UnreachableCaseError } from '../../errors/unreachable';
import { packPngs } from '../../images/packed-pngs';
import { encodePngs } from '../../images/png';
import { loadFeatureNetwork } from '../../models/feature-network';
import { loadLayersModel } from '../../models/io';
import { loadServedGenerator } from '../../models/served-generator';
import { loadOnnxRuntime } from '../../onnx/onnx-runtime';
import { loadClassifier } from '../classifier';
import { ActivationModels } from '../layer-passes';
import type { ModelSpec } from '../model-spec';
import type { OnnxRuntime } from '../../onnx/onnx-runtime';
import { buildOnnxSessions, type OnnxSessionSettings } from '../onnx-sessions';
import { computeBatch, computeStimulus, disposeServedModel, type ServedModel } from '../served-model';
import type { BatchRequest, LoadRequest, StimulusJobRequest, WorkerReply, WorkerRequest, WorkerSetup } from './messages';

/** ONNX Runtime in this worker, with the settings of its sessions. */
interface WorkerOnnx {
  runtime: OnnxRuntime;
  settings: OnnxSessionSettings;
}

/** Layer sub-models of this worker's networks, built on first use. */
const activations = new ActivationModels();

type Reply = (message: WorkerReply, transfer?: ArrayBuffer[]) => void;

/**
 * One inference worker: its own single-threaded tfjs backend and its own copy of every model,
 * computing one job at a time, in order, for the WorkerExecutor on the main thread, and loading models
 * added after start when told to.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('inference.worker: expected to run in a worker thread, got the main thread');
  // Set by WorkerExecutor, which builds it from checked options.
  const setup = workerData as WorkerSetup;
  const reply: Reply = (message, transfer = []) => port.postMessage(message, transfer);

  const models = new Map<string, ServedModel>();
  try {
    const backend = await initBackend({ order: setup.backendOrder, customKernels: setup.optimize });
    const onnx = setup.onnx === undefined ? undefined : workerOnnx(setup.onnx);
    for (const spec of setup.models) models.set(spec.id, await loadModel(spec, setup.optimize, onnx));
    // Jobs run one after another in the order they came: a job waiting behind another (the
    // executor's pipelining) has not started when the worker dies, so it can go to another worker.
    let jobs = Promise.resolve();
    port.on('message', (request: WorkerRequest) => {
      switch (request.type) {
        case 'batch':
          jobs = jobs.then(() => runBatch(request, models, setup, reply));
          return;
        case 'stimulus':
          jobs = jobs.then(() => runStimulus(request, models, reply));
          return;
        case 'load':
          void load(request, models, setup, onnx, reply);
          return;
        case 'unload':
          dispose(models.get(request.modelId));
          models.delete(request.modelId);
          reply({ type: 'unloaded', modelId: request.modelId, numTensors: tf.memory().numTensors });
          return;
        default:
          throw new UnreachableCaseError(request);
      }
    });
    reply({ type: 'ready', backend: backend.name, customKernels: backend.customKernels, numTensors: tf.memory().numTensors, models: [...models.keys()] });
  } catch (error) {
    reply({ type: 'startFailed', message: messageOf(error) });
  }
}

/** ONNX Runtime in this worker; the main thread has loaded it already, so failing here fails the worker. */
function workerOnnx(settings: OnnxSessionSettings): WorkerOnnx {
  const loaded = loadOnnxRuntime();
  if (!loaded.ok) throw new Error(loaded.reason);
  return { runtime: loaded.runtime, settings };
}

/**
 * Loads a generator, its classifier (both as the server serves them when optimised) and its feature
 * network, those it has, and with ONNX Runtime the sessions its ONNX plan names (checked on the main
 * thread already), all or nothing.
 */
async function loadModel(spec: ModelSpec, optimize: boolean, onnx: WorkerOnnx | undefined): Promise<ServedModel> {
  const model: ServedModel = {};
  try {
    // Optimised: as the server serves it (batchnorm folded); otherwise the model as saved.
    if (spec.dir !== undefined) model.generator = optimize ? await loadServedGenerator(spec.dir) : await loadLayersModel(spec.dir);
    if (spec.classifier !== undefined) model.classifier = await loadClassifier(spec.classifier, { fold: optimize });
    if (spec.features !== undefined) model.features = await loadFeatureNetwork(spec.features);
    if (onnx !== undefined) model.onnx = await buildOnnxSessions(spec.onnx, onnx.runtime, onnx.settings);
    return model;
  } catch (error) {
    disposeServedModel(model);
    throw error;
  }
}

async function load(request: LoadRequest, models: Map<string, ServedModel>, setup: WorkerSetup, onnx: WorkerOnnx | undefined, reply: Reply): Promise<void> {
  try {
    const model = await loadModel(request.model, setup.optimize, onnx);
    dispose(models.get(request.model.id));
    models.set(request.model.id, model);
    reply({ type: 'loaded', loadId: request.loadId, numTensors: tf.memory().numTensors });
  } catch (error) {
    reply({ type: 'loadFailed', loadId: request.loadId, message: messageOf(error) });
  }
}

async function runBatch(request: BatchRequest, models: ReadonlyMap<string, ServedModel>, setup: WorkerSetup, reply: Reply): Promise<void> {
  if (request.n === setup.exitOnBatchSize) process.exit(70);
  try {
    const model = models.get(request.modelId);
    if (model === undefined) throw new Error(`inference worker: no model ${JSON.stringify(request.modelId)} loaded (have ${[...models.keys()].join(', ')})`);
    let output = await computeBatch(model, request.modelId, request, request.input, request.n, activations);
    // Encoded here, where the pixels are: the main thread's event loop does not.
    const pngs = request.png === undefined ? undefined : packPngs(encodePngs(output, request.n, request.png));
    // Transfer needs an array that owns its whole buffer; a view is copied once to get one.
    if (output.byteOffset !== 0 || output.byteLength !== output.buffer.byteLength) output = output.slice();
    const transfer = [output.buffer as ArrayBuffer, ...(pngs === undefined ? [] : [pngs.bytes.buffer as ArrayBuffer])];
    reply({ type: 'result', jobId: request.jobId, output, ...(pngs === undefined ? {} : { pngs }), numTensors: tf.memory().numTensors }, transfer);
  } catch (error) {
    reply({ type: 'failed', jobId: request.jobId, message: messageOf(error) });
  }
}

function runStimulus(request: StimulusJobRequest, models: ReadonlyMap<string, ServedModel>, reply: Reply): void {
  try {
    const model = models.get(request.modelId);
    if (model === undefined) throw new Error(`inference worker: no model ${JSON.stringify(request.modelId)} loaded (have ${[...models.keys()].join(', ')})`);
    const { image, ...rest } = computeStimulus(model, request.modelId, request.request, activations);
    const owned = image.slice();
    reply({ type: 'stimulus', jobId: request.jobId, image: owned, ...rest, numTensors: tf.memory().numTensors }, [owned.buffer]);
  } catch (error) {
    reply({ type: 'failed', jobId: request.jobId, message: messageOf(error) });
  }
}

function dispose(model: ServedModel | undefined): void {
  disposeServedModel(model);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

void main();
