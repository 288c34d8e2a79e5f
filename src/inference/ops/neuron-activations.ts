import * as tf from '@tensorflow/tfjs';

/**
 * One activation per neuron and image, from a layer's batched output. A dense layer's output
 * [n, units] is already that (neuron j = unit j); a conv layer's [n, h, w, c] gives one value per
 * feature map: its spatial maximum (the map's strongest response anywhere in the image).
 * Pure; call it inside tf.tidy.
 */
export function neuronActivations(layerOutput: tf.Tensor): tf.Tensor2D {
  switch (layerOutput.rank) {
    case 2:
      return layerOutput as tf.Tensor2D;
    case 4:
      return tf.max<tf.Tensor2D>(layerOutput, [1, 2]);
    default:
      throw new Error(`neuronActivations: expected a layer output of rank 2 [n, units] or 4 [n, h, w, c], got shape [${layerOutput.shape.join(', ')}]`);
  }
}
