import * as tf from '@tensorflow/tfjs';
import type { ModelRegistry } from '../models/model-registry';
import type { Executor } from './executor';

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
    const run = async (): Promise<Float32Array> => {
      const model = this.registry.get(modelId);
      const latentSize = model.manifest.latentSize;
      if (latents.length !== n * latentSize) {
        throw new Error(`executor: expected ${n * latentSize} latent values, got ${latents.length}`);
      }
      const images = tf.tidy(() => model.generator.predict(tf.tensor2d(latents, [n, latentSize]), { batchSize: n }) as tf.Tensor);
      try {
        // Read outside tidy: returning typed data from inside it makes tidy walk every element.
        return (await images.data()) as Float32Array;
      } finally {
        images.dispose();
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.tail;
  }
}
