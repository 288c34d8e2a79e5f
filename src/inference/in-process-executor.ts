import * as tf from '@tensorflow/tfjs';
import { loadFeatureNetwork, type LoadedFeatureNetwork } from '../models/feature-network';
import type { ModelRegistry } from '../models/model-registry';
import { loadClassifier } from './classifier';
import type { Executor, StimulusRequest, StimulusResult } from './executor';
import { ActivationModels, type FilterRemoval, type LayerPass } from './layer-passes';
import { checkModelSpec, type ModelSpec } from './model-spec';
import { prepareOnnx } from './onnx-prepare';
import {
  buildOnnxSessions,
  enginesOf,
  generateOnTfjs,
  modelServing,
  releaseOnnxSessions,
  type ModelServing,
  type OnnxServing,
  type OnnxSessions,
} from './onnx-sessions';
import { computeBatch, computeStimulus, type BatchTask, type ServedModel } from './served-model';

/**
 * Runs batches one at a time on this thread's tfjs backend, or on ONNX Runtime sessions when given
 * ONNX Runtime (generate and classify, as each model's ONNX plan says; see prepareOnnx). Generators
 * are the registry's own; classifiers are loaded here by loadModel (the registry holds none).
 */
export class InProcessExecutor implements Executor {
  readonly description: string;
  readonly concurrency = 1;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly classifiers = new Map<string, tf.LayersModel>();
  private readonly featureNetworks = new Map<string, LoadedFeatureNetwork>();
  private readonly activations = new ActivationModels();
  /** Ids loadModel accepted; the registry's models at start are served without it. */
  private readonly loaded = new Set<string>();
  private readonly onnxSessions = new Map<string, OnnxSessions>();
  /** The specs loadModel accepted, with their ONNX plans. */
  private readonly specs = new Map<string, ModelSpec>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly backend: string,
    /** ONNX Runtime for generate and classify; undefined serves everything on tfjs. */
    private readonly onnx?: OnnxServing,
  ) {
    this.description =
      onnx === undefined ? `in-process ${backend}` : `in-process ${onnx.engine} (${onnx.threads} thread${onnx.threads === 1 ? '' : 's'}) and ${backend}`;
  }

  generate(modelId: string, latents: Float32Array, n: number, removal?: FilterRemoval, engine?: string): Promise<Float32Array> {
    const onTfjs = generateOnTfjs(this.enginesOf(modelId, 'generate', removal), engine, this.backend, modelId);
    if (onTfjs instanceof Error) return Promise.reject(onTfjs);
    return this.batch(modelId, { pass: 'generate', removal, ...(onTfjs ? { onTfjs } : {}) }, latents, n);
  }

  classify(modelId: string, images: Float32Array, n: number): Promise<Float32Array> {
    if (!this.classifiers.has(modelId)) {
      return Promise.reject(
        new Error(
          `InProcessExecutor: expected a model with a classifier among ${[...this.classifiers.keys()].join(', ') || '(none)'}, got ${JSON.stringify(modelId)}`,
        ),
      );
    }
    return this.batch(modelId, { pass: 'classify' }, images, n);
  }

  hasClassifier(modelId: string): boolean {
    return this.classifiers.has(modelId);
  }

  servingOf(modelId: string): ModelServing {
    const spec = this.specs.get(modelId);
    if (spec === undefined) return {};
    return modelServing({ generator: spec.dir !== undefined, classifier: spec.classifier !== undefined }, spec.onnx, this.backend, this.onnx);
  }

  enginesOf(modelId: string, pass: 'generate' | 'classify', removal?: FilterRemoval): string[] {
    return enginesOf(this.servingOf(modelId), pass, this.backend, removal);
  }

  layerPass(modelId: string, pass: LayerPass, input: Float32Array, n: number): Promise<Float32Array> {
    if (pass.kind !== 'generatorMeans' && !this.hasFeatureNetwork(modelId)) return Promise.reject(this.noFeatureNetwork(modelId));
    return this.batch(modelId, { pass: 'layer', layerPass: pass }, input, n);
  }

  hasFeatureNetwork(modelId: string): boolean {
    return this.featureNetworks.has(modelId);
  }

  optimalStimulus(modelId: string, request: StimulusRequest): Promise<StimulusResult> {
    if (!this.hasFeatureNetwork(modelId)) return Promise.reject(this.noFeatureNetwork(modelId));
    return this.enqueue(async () => computeStimulus(this.served(modelId), modelId, request, this.activations));
  }

  private batch(modelId: string, task: BatchTask, input: Float32Array, n: number): Promise<Float32Array> {
    return this.enqueue(() => computeBatch(this.served(modelId), modelId, task, input, n, this.activations));
  }

  /** The registry's generator with what loadModel added. */
  private served(modelId: string): ServedModel {
    return {
      generator: this.registry.loaded(modelId).generator,
      classifier: this.classifiers.get(modelId),
      features: this.featureNetworks.get(modelId),
      onnx: this.onnxSessions.get(modelId),
    };
  }

  private noFeatureNetwork(modelId: string): Error {
    return new Error(
      `InProcessExecutor: expected a model with a feature network among ${[...this.featureNetworks.keys()].join(', ') || '(none)'}, got ${JSON.stringify(modelId)}`,
    );
  }

  /**
   * The generator must already be in the registry (ModelRegistry loads it); this loads the classifier,
   * if any, and with ONNX Runtime makes the model's ONNX plan (unless the spec has one) and its sessions.
   */
  async loadModel(spec: ModelSpec): Promise<void> {
    checkModelSpec(spec, 'InProcessExecutor.loadModel');
    if (this.loaded.has(spec.id)) throw new Error(`InProcessExecutor.loadModel: expected a model not loaded yet, got ${spec.id} again`);
    // Throws NOT_FOUND: the registry must hold the version first (served, or being added or restored).
    this.registry.loaded(spec.id);
    this.loaded.add(spec.id);
    try {
      if (spec.classifier !== undefined) this.classifiers.set(spec.id, await loadClassifier(spec.classifier));
      if (spec.features !== undefined) this.featureNetworks.set(spec.id, await loadFeatureNetwork(spec.features));
      let onnx = spec.onnx;
      if (this.onnx !== undefined) {
        onnx ??= await prepareOnnx(spec, this.onnx);
        this.onnxSessions.set(spec.id, await buildOnnxSessions(onnx, this.onnx.runtime, this.onnx));
      }
      this.specs.set(spec.id, { ...spec, ...(onnx !== undefined ? { onnx } : {}) });
    } catch (error) {
      this.loaded.delete(spec.id);
      this.classifiers.get(spec.id)?.dispose();
      this.classifiers.delete(spec.id);
      this.featureNetworks.get(spec.id)?.network.dispose();
      this.featureNetworks.delete(spec.id);
      throw error;
    }
  }

  /** Releases its classifier, feature network and ONNX sessions after the batches queued before it; the generator is the registry's to dispose of. */
  async unloadModel(modelId: string): Promise<void> {
    this.loaded.delete(modelId);
    this.specs.delete(modelId);
    await this.enqueue(async () => {
      this.classifiers.get(modelId)?.dispose();
      this.classifiers.delete(modelId);
      this.featureNetworks.get(modelId)?.network.dispose();
      this.featureNetworks.delete(modelId);
      releaseOnnxSessions(this.onnxSessions.get(modelId));
      this.onnxSessions.delete(modelId);
    });
  }

  tensorCount(): number {
    return tf.memory().numTensors;
  }

  async close(): Promise<void> {
    await this.tail;
    for (const classifier of this.classifiers.values()) classifier.dispose();
    this.classifiers.clear();
    for (const features of this.featureNetworks.values()) features.network.dispose();
    this.featureNetworks.clear();
    for (const sessions of this.onnxSessions.values()) releaseOnnxSessions(sessions);
    this.onnxSessions.clear();
    this.specs.clear();
  }

  /** One batch at a time, in order; a failure fails only its own batch. */
  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
