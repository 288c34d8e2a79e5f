import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/backend';
import { loadLayersModel } from '../../models/io';
import { loadServedGenerator } from '../../models/served-generator';
import { runGenerator } from '../run-generator';
import type { GenerateRequest, WorkerReply, WorkerSetup } from './messages';

/**
 * One inference worker: its own single-threaded tfjs backend and its own copy of every model,
 * computing one batch at a time for the WorkerExecutor on the main thread.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('inference.worker: expected to run in a worker thread, got the main thread');
  // Set by WorkerExecutor, which builds it from checked options.
  const setup = workerData as WorkerSetup;
  const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  const generators = new Map<string, tf.LayersModel>();
  try {
    const backend = await initBackend({ order: setup.backendOrder, customKernels: setup.optimize });
    for (const { id, dir } of setup.models) {
      // Optimised: as the server serves it (batchnorm folded); otherwise the model as saved.
      generators.set(id, setup.optimize ? await loadServedGenerator(dir) : await loadLayersModel(dir));
    }
    port.on('message', (request: GenerateRequest) => {
      void generate(request, generators, setup, reply);
    });
    reply({ type: 'ready', backend: backend.name, customKernels: backend.customKernels, numTensors: tf.memory().numTensors });
  } catch (error) {
    reply({ type: 'startFailed', message: error instanceof Error ? error.message : String(error) });
  }
}

async function generate(
  request: GenerateRequest,
  generators: ReadonlyMap<string, tf.LayersModel>,
  setup: WorkerSetup,
  reply: (message: WorkerReply, transfer?: ArrayBuffer[]) => void,
): Promise<void> {
  if (request.n === setup.exitOnBatchSize) process.exit(70);
  try {
    const generator = generators.get(request.modelId);
    if (generator === undefined) throw new Error(`inference worker: no model ${JSON.stringify(request.modelId)} loaded (have ${[...generators.keys()].join(', ')})`);
    let images = await runGenerator(generator, request.latents, request.n);
    // Transfer needs an array that owns its whole buffer; a view is copied once to get one.
    if (images.byteOffset !== 0 || images.byteLength !== images.buffer.byteLength) images = images.slice();
    reply({ type: 'result', jobId: request.jobId, images, numTensors: tf.memory().numTensors }, [images.buffer as ArrayBuffer]);
  } catch (error) {
    reply({ type: 'failed', jobId: request.jobId, message: error instanceof Error ? error.message : String(error) });
  }
}

void main();
