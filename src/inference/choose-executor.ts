import os from 'node:os';
import type { BackendName } from '../backend/backend';
import { UnreachableCaseError } from '../errors/unreachable';
import type { Logger } from '../log/logger';
import type { ModelRegistry } from '../models/model-registry';
import { loadClassifier } from './classifier';
import type { Executor } from './executor';
import { InProcessExecutor } from './in-process-executor';
import { modelSpec, type ModelSpec } from './model-spec';
import { servedPasses, type ModelServing, type OnnxServing } from './onnx-sessions';
import { WorkerExecutor } from './worker-executor';
import type { WorkerEvent } from './worker-executor.options';

/** How inference should run for a backend, and why. */
export type ExecutorPlan = { kind: 'in-process'; reason: string } | { kind: 'workers'; workers: number; reason: string };

/**
 * Decides where forward passes run. `workers` is the configured count (GANQL_INFERENCE_WORKERS):
 * undefined for the default, 0 for in-process.
 * - tensorflow-gpu: in-process, always. One executor owns the GPU; the device runs one batch at a
 *   time anyway, and a context per worker would split its memory.
 * - tensorflow (native CPU): default 1 worker. TensorFlow spreads each op over every core itself;
 *   the worker only keeps those ops off the event loop (more would oversubscribe the cores).
 * - wasm, cpu: default one worker per core (`cores`). These backends use one thread each here
 *   (tfjs turns wasm threads off in Node), so workers are how a second core gets used.
 */
export function planExecutor(backend: BackendName, workers: number | undefined, cores = os.availableParallelism()): ExecutorPlan {
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    throw new Error(`planExecutor: expected workers to be an integer >= 0 or undefined, got ${workers}`);
  }
  switch (backend) {
    case 'tensorflow-gpu':
      return { kind: 'in-process', reason: 'tensorflow-gpu: one executor owns the GPU' };
    case 'tensorflow':
    case 'wasm':
    case 'cpu': {
      if (workers === 0) return { kind: 'in-process', reason: 'inference workers set to 0' };
      if (workers !== undefined) return { kind: 'workers', workers, reason: 'configured' };
      if (backend === 'tensorflow')
        return { kind: 'workers', workers: 1, reason: 'tensorflow parallelises each op itself; one worker keeps it off the event loop' };
      return { kind: 'workers', workers: Math.max(1, cores), reason: `one single-threaded ${backend} backend per core` };
    }
    default:
      throw new UnreachableCaseError(backend);
  }
}

export interface ChooseExecutorOptions {
  /** The backend initBackend chose on the main thread; workers use the same one. */
  backend: BackendName;
  /** Configured worker count; undefined for the default, 0 for in-process (see planExecutor). */
  workers: number | undefined;
  /** The loaded models; every worker loads each of them from its folder. */
  registry: ModelRegistry;
  /** Root the registry loaded from, to find each generator's and classifier's folder. */
  modelsDir: string;
  /**
   * ONNX Runtime (loaded on this thread) to serve generate and classify with: each model's networks are
   * exported (or read from their ONNX files) and checked against tfjs here first. Undefined serves all on tfjs.
   */
  onnx?: OnnxServing;
  log: Logger;
}

/**
 * Builds the executor planExecutor picks; resolves once it (each of its workers, if any) has loaded
 * every model. Workers start even with no model: a training job may add one later (loadModel).
 */
export async function chooseExecutor(options: ChooseExecutorOptions): Promise<Executor> {
  const plan = planExecutor(options.backend, options.workers);
  const models = await usableSpecs(
    options.registry.list().map((m) => modelSpec(m, options.modelsDir)),
    options.log,
  );
  if (plan.kind === 'in-process') {
    options.log.info('inference executor', { kind: 'in-process', reason: plan.reason });
    const executor = new InProcessExecutor(options.registry, options.backend, options.onnx);
    for (const spec of models) await executor.loadModel(spec);
    for (const { id } of models) logServing(options.log, id, executor.servingOf(id));
    return executor;
  }
  const started = performance.now();
  const executor = await WorkerExecutor.create({
    workers: plan.workers,
    models,
    backendOrder: [options.backend],
    ...(options.onnx !== undefined ? { onnx: options.onnx } : {}),
    onEvent: (event) => logWorkerEvent(options.log, event),
  });
  options.log.info('inference executor', { kind: 'workers', workers: plan.workers, reason: plan.reason, startMs: Math.round(performance.now() - started) });
  for (const { id } of models) logServing(options.log, id, executor.servingOf(id));
  return executor;
}

/** Says what computes each pass of a model, and why a pass is not on ONNX Runtime (or not on the providers asked for). */
export function logServing(log: Logger, id: string, serving: ModelServing): void {
  for (const s of servedPasses(serving)) {
    const fields = { id, pass: s.pass, engine: s.engine, ...(s.source !== undefined ? { onnx: s.source } : {}) };
    if (s.reason !== undefined) log.warn('model pass not served as asked', { ...fields, reason: s.reason });
    else log.info('model pass served', fields);
  }
}

/**
 * The specs with every classifier checked once on this thread: one that does not load or fit its
 * manifest is logged and left out, so its model still serves samples and classify says it cannot,
 * instead of every worker failing to start (a model with nothing else to serve is left out whole).
 */
async function usableSpecs(specs: ModelSpec[], log: Logger): Promise<ModelSpec[]> {
  const usable: ModelSpec[] = [];
  for (const spec of specs) {
    if (spec.classifier === undefined) {
      usable.push(spec);
      continue;
    }
    try {
      (await loadClassifier(spec.classifier)).dispose();
      usable.push(spec);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (spec.dir === undefined) {
        log.error('classifier not loaded; the model has no generator either, so it is not served', { id: spec.id, error: message });
        continue;
      }
      log.error('classifier not loaded; the model serves samples but not classify', { id: spec.id, error: message });
      usable.push({ id: spec.id, dir: spec.dir });
    }
  }
  return usable;
}

function logWorkerEvent(log: Logger, event: WorkerEvent): void {
  switch (event.type) {
    case 'exited':
      log.error('inference worker exited; restarting it', { worker: event.worker, code: event.code, reason: event.reason, lostBatch: event.lostBatch });
      return;
    case 'restarted':
      log.info('inference worker restarted', { worker: event.worker });
      return;
    case 'restartFailed':
      log.error('inference worker failed to restart', { worker: event.worker, error: event.message, retryInMs: event.retryInMs });
      return;
    case 'loadFailed':
      log.error('inference worker could not load a model added after it started; the other workers serve it', {
        worker: event.worker,
        model: event.modelId,
        error: event.message,
      });
      return;
    default:
      throw new UnreachableCaseError(event);
  }
}
