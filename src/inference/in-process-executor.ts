import * as tf from '@tensorflow/tfjs';
import type { ModelRegistry } from '../models/model-registry';
import { loadClassifier, runClassifier } from './classifier';
import type { Executor } from './executor';
import { checkModelSpec, type ModelSpec } from './model-spec';
import { runGenerator } from './run-generator';

/**
 * Runs batches one at a time on this thread's tfjs backend. Generators are the registry's own;
 * classifiers are loaded here by loadModel (the registry holds none).
 */
export class InProcessExecutor implements Executor {
  readonly description: string;
  readonly concurrency = 1;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly classifiers = new Map<string, tf.LayersModel>();
  /** Ids loadModel accepted; the registry's models at start are served without it. */
  private readonly loaded = new Set<string>();

  constructor(
    private readonly registry: ModelRegistry,
    backend: string,
  ) {
    this.description = `in-process ${backend}`;
  }

  generate(modelId: string, latents: Float32Array, n: number): Promise<Float32Array> {
    return this.enqueue(() => runGenerator(this.registry.get(modelId).generator, latents, n));
  }

  classify(modelId: string, images: Float32Array, n: number): Promise<Float32Array> {
    return this.enqueue(() => {
      const classifier = this.classifiers.get(modelId);
      if (classifier === undefined) throw new Error(`InProcessExecutor: expected a model with a classifier among ${[...this.classifiers.keys()].join(', ') || '(none)'}, got ${JSON.stringify(modelId)}`);
      return runClassifier(classifier, images, n);
    });
  }

  hasClassifier(modelId: string): boolean {
    return this.classifiers.has(modelId);
  }

  /** The generator must already be in the registry (ModelRegistry loads it); this loads the classifier, if any. */
  async loadModel(spec: ModelSpec): Promise<void> {
    checkModelSpec(spec, 'InProcessExecutor.loadModel');
    if (this.loaded.has(spec.id)) throw new Error(`InProcessExecutor.loadModel: expected a model not loaded yet, got ${spec.id} again`);
    // Throws NOT_FOUND naming the ids there are: the registry must hold the version first.
    this.registry.get(spec.id);
    this.loaded.add(spec.id);
    try {
      if (spec.classifier !== undefined) this.classifiers.set(spec.id, await loadClassifier(spec.classifier));
    } catch (error) {
      this.loaded.delete(spec.id);
      throw error;
    }
  }

  tensorCount(): number {
    return tf.memory().numTensors;
  }

  async close(): Promise<void> {
    await this.tail;
    for (const classifier of this.classifiers.values()) classifier.dispose();
    this.classifiers.clear();
  }

  /** One batch at a time, in order; a failure fails only its own batch. */
  private enqueue(run: () => Promise<Float32Array>): Promise<Float32Array> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
