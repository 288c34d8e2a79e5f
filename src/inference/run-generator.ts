import * as tf from '@tensorflow/tfjs';

/**
 * One forward pass of `generator` on `n` latents laid out row-major; returns the `n` images
 * row-major. Used by every executor, so in-process and worker results are computed alike.
 */
export async function runGenerator(generator: tf.LayersModel, latents: Float32Array, n: number): Promise<Float32Array> {
  const latentSize = generator.inputs[0].shape[1];
  if (typeof latentSize !== 'number' || latents.length !== n * latentSize) {
    throw new Error(`executor: expected ${n * Number(latentSize)} latent values (${n} x ${latentSize}), got ${latents.length}`);
  }
  const images = tf.tidy(() => generator.predict(tf.tensor2d(latents, [n, latentSize]), { batchSize: n }) as tf.Tensor);
  try {
    // Read outside tidy: returning typed data from it makes tidy walk every element.
    return (await images.data()) as Float32Array;
  } finally {
    images.dispose();
  }
}
