import type * as tf from '@tensorflow/tfjs';

/** A model's trainable variables, for optimizer.minimize's varList. */
export function variablesOf(model: tf.LayersModel): tf.Variable[] {
  // LayerVariable.read() returns the backing tf.Variable (typed as Tensor); the optimizer wants Variables.
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}
