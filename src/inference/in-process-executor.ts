import * as tf from '@tensorflow/tfjs';
import type { ModelRegistry } from '../models/model-registry';
import type { Executor } from './executor';
import { runGenerator } from './run-generator';

/** Runs batches one at a time on this thread's tfjs backend. */
export class InProcessExecutor implements Executor {
  readonly description: string;
  readonly concurrency = 1;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: ModelRegistry,
    backend: string,
  ) {
    this.description = `in-process ${backend}`;
  }

  generate(modelId: string, latents: Float32Array, n: number): Promise<Float32Array> {
    const run = (): Promise<Float32Array> => runGenerator(this.registry.get(modelId).generator, latents, n);
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  tensorCount(): number {
    return tf.memory().numTensors;
  }

  async close(): Promise<void> {
    await this.tail;
  }
}
