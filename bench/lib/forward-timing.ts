import * as tf from '@tensorflow/tfjs';
import type { Executor } from '../../src/inference/executor';

export interface ForwardTiming {
  batch: number;
  samplesPerSecond: number;
  msPerBatch: number;
}

/** Raw generator throughput at one batch size on this thread's backend, timed for about `seconds`. */
export function timeForward(generator: tf.LayersModel, latentSize: number, batch: number, seconds: number): ForwardTiming {
  const z = tf.randomNormal([batch, latentSize], 0, 1, 'float32', 1);
  const run = () => {
    // The whole batch in one pass, as ganql's executors run it (predict's default splits into 32s).
    const out = tf.tidy(() => generator.predict(z, { batchSize: batch }) as tf.Tensor);
    out.dataSync(); // read outside tidy: returning typed data from it makes tidy walk every element
    out.dispose();
  };
  try {
    run(); // warm-up: kernels compiled, buffers allocated
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      run();
      n++;
    }
    const msPerBatch = (performance.now() - start) / n;
    return { batch, samplesPerSecond: (batch * 1000) / msPerBatch, msPerBatch };
  } finally {
    z.dispose();
  }
}

/**
 * Throughput of an executor at one batch size, keeping `executor.concurrency` batches in flight
 * (one per worker), for about `seconds`. msPerBatch is wall time per batch over all workers.
 */
export async function timeExecutor(executor: Executor, modelId: string, latentSize: number, batch: number, seconds: number): Promise<ForwardTiming> {
  const latents = () => Float32Array.from({ length: batch * latentSize }, (_, i) => Math.sin(i));
  await Promise.all(Array.from({ length: executor.concurrency }, () => executor.generate(modelId, latents(), batch))); // warm-up
  let n = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      await executor.generate(modelId, latents(), batch);
      n++;
    }
  };
  await Promise.all(Array.from({ length: executor.concurrency }, lane));
  const msPerBatch = (performance.now() - start) / n;
  return { batch, samplesPerSecond: (batch * 1000) / msPerBatch, msPerBatch };
}
