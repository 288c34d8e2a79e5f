import * as tf from '@tensorflow/tfjs';

/**
 * Feature matching (Salimans et al. 2016, sec 3.1): the generator minimises
 * || mean_x f(x_real) - mean_z f(G(z)) ||_2^2, f being an intermediate layer of D.
 * Features [n, ...] are flattened per example; the two batches may differ in size. `mean` divides by the
 * feature count, as the paper's released MNIST code does (the gradient's scale then matters through
 * Adam's epsilon inside the root).
 */
export function featureMatchingLoss(realFeatures: tf.Tensor, fakeFeatures: tf.Tensor, reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
  const realWidth = realFeatures.size / realFeatures.shape[0];
  const fakeWidth = fakeFeatures.size / fakeFeatures.shape[0];
  if (realWidth !== fakeWidth) {
    throw new Error(`featureMatchingLoss: expected real and fake features of one width, got ${realWidth} and ${fakeWidth}`);
  }
  return tf.tidy(() => {
    const realMean = tf.mean(tf.reshape(realFeatures, [realFeatures.shape[0], -1]), 0);
    const fakeMean = tf.mean(tf.reshape(fakeFeatures, [fakeFeatures.shape[0], -1]), 0);
    const squared = tf.square(tf.sub(realMean, fakeMean));
    return reduction === 'sum' ? tf.sum<tf.Scalar>(squared) : tf.mean<tf.Scalar>(squared);
  });
}

/**
 * A model that shares D's layers and weights and outputs the named layer's activations.
 * It owns no tensors: never dispose it (that would release D's shared layers), just drop it.
 */
export function featureExtractor(discriminator: tf.LayersModel, layer: string): tf.LayersModel {
  const names = discriminator.layers.map((l) => l.name);
  if (!names.includes(layer)) throw new Error(`featureMatching.layer: expected one of ${names.join(', ')}, got ${JSON.stringify(layer)}`);
  // A layer applied once in D has one inbound node; its output is a single SymbolicTensor.
  const output = discriminator.getLayer(layer).output as tf.SymbolicTensor;
  return tf.model({ name: `${discriminator.name}_features_${layer}`, inputs: discriminator.inputs, outputs: output });
}
