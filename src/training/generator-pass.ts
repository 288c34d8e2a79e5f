import * as tf from '@tensorflow/tfjs';
import { withoutReference, withReference } from '../models/layers/virtual-batch-norm';

/**
 * G(z) for a trainer: with virtual batch norm, `referenceNoise` rows are prepended and dropped again.
 * Inference without VBN uses predict; with VBN apply, since predict splits the batch into chunks of 32
 * and only the first would carry the reference rows.
 */
export function generatorPass(generator: tf.LayersModel, referenceNoise: tf.Tensor2D | null, z: tf.Tensor2D, training: boolean): tf.Tensor4D {
  if (referenceNoise === null) return (training ? generator.apply(z, { training }) : generator.predict(z)) as tf.Tensor4D;
  const out = generator.apply(withReference(referenceNoise, z), { training }) as tf.Tensor4D;
  return withoutReference(out, referenceNoise.shape[0]);
}

/** Generator output (inference mode) for `count` latents laid out row-major in `noise`, one Float32Array per image. */
export function generateImages(generator: tf.LayersModel, referenceNoise: tf.Tensor2D | null, noise: Float32Array, count: number): Float32Array[] {
  const latentSize = noise.length / count;
  const flat = tf.tidy(() => generatorPass(generator, referenceNoise, tf.tensor2d(noise, [count, latentSize]), false));
  // Read outside the tidy (see TFJS-NOTES).
  const data = flat.dataSync() as Float32Array;
  flat.dispose();
  const imageSize = data.length / count;
  return Array.from({ length: count }, (_, i) => data.slice(i * imageSize, (i + 1) * imageSize));
}
