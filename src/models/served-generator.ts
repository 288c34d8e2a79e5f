import type * as tf from '@tensorflow/tfjs';
import { foldBatchNorm } from './fold-batch-norm';
import { loadLayersModel } from './io';

/**
 * A generator as ganql serves it: loaded from its folder with batchnorm folded into the layer
 * before it (same images, fewer ops). For inference only: never train the result.
 */
export async function loadServedGenerator(dir: string): Promise<tf.LayersModel> {
  const saved = await loadLayersModel(dir);
  try {
    return await foldBatchNorm(saved);
  } finally {
    saved.dispose();
  }
}
