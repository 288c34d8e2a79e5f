import type * as tf from '@tensorflow/tfjs';

/** The last part of a weight's name ("kernel", "gamma", "moving_mean", ...). */
function weightKey(w: tf.LayerVariable): string {
  return w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
}

/**
 * Copies `source`'s weights into `target`, matched by name (kernel, gamma, ...), not by position:
 * getWeights() lists trainable weights first, so a frozen weight (the K+1 generator's batchnorm
 * gamma) changes the order between two otherwise equal layers. Throws naming the first mismatch.
 */
export function copyLayerWeights(target: tf.layers.Layer, source: tf.layers.Layer): void {
  const values = target.weights.map((tw) => {
    const match = source.weights.find((sw) => weightKey(sw) === weightKey(tw));
    const got = source.weights.map((w) => `${weightKey(w)} [${w.shape}]`).join(', ');
    if (match === undefined || match.shape.join() !== tw.shape.join()) {
      throw new Error(`layer ${target.name}: expected weights ${target.weights.map((w) => `${weightKey(w)} [${w.shape}]`).join(', ')}, got ${got || 'none'}`);
    }
    return match.read();
  });
  if (values.length > 0) target.setWeights(values);
}
