import * as tf from '@tensorflow/tfjs';
import { copyLayerWeights } from './copy-weights';
import { VirtualBatchNormalization } from './layers/virtual-batch-norm';
import { modelFromTopology, topologyOf } from './topology';

/**
 * A copy of a generator trained with virtual batch normalization in which every VBN layer is a plain
 * BatchNormalization holding the reference batch's statistics as its moving mean and variance, so the
 * saved generator loads with standard layers and the serving path folds it like any batchnorm.
 * Serving therefore normalises with the reference statistics alone: the frozen model's output for
 * the reference noise equals the VBN model's output for its reference rows; for other noise it leaves
 * out VBN's 1/(R+1) share of the example's own statistics. `model` is left untouched; the copy owns its weights.
 * Returns null when `model` has no VBN layer.
 */
export async function freezeVirtualBatchNorm(model: tf.LayersModel, referenceNoise: tf.Tensor2D): Promise<tf.LayersModel | null> {
  const vbns = model.layers.filter((l): l is VirtualBatchNormalization => l instanceof VirtualBatchNormalization);
  if (vbns.length === 0) return null;
  const r = referenceNoise.shape[0];
  for (const l of vbns) {
    if (l.referenceSize !== r) throw new Error(`freezeVirtualBatchNorm: expected ${l.name}.referenceSize = ${r} (the reference noise rows), got ${l.referenceSize}`);
  }
  // The reference rows are normalised with reference statistics only, so one extra row (VBN needs n > R) changes nothing in them.
  const inputsOf = tf.model({ inputs: model.inputs, outputs: vbns.map((l) => l.input as tf.SymbolicTensor) });
  const stats = tf.tidy(() => {
    const batch = tf.concat([referenceNoise, tf.slice(referenceNoise, 0, 1)], 0);
    const outs = inputsOf.apply(batch, { training: false }) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(outs) ? outs : [outs]).map((x) => {
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const reference = tf.slice(x, 0, r);
      const mean = tf.mean(reference, axes);
      // The same variance as the VBN layer: E[x^2] - E[x]^2, clipped at 0.
      const variance = tf.relu(tf.sub(tf.mean(tf.square(reference), axes), tf.square(mean)));
      return [mean, variance] as [tf.Tensor, tf.Tensor];
    });
  });

  const topology = topologyOf(model, 'freezeVirtualBatchNorm');
  const frozen = new Set(vbns.map((l) => l.name));
  for (const layer of topology.config.layers) {
    if (!frozen.has(layer.name)) continue;
    const epsilon = (model.getLayer(layer.name) as VirtualBatchNormalization).epsilon;
    layer.class_name = 'BatchNormalization';
    layer.config = { name: layer.name, trainable: true, axis: -1, momentum: 0.99, epsilon, center: true, scale: true };
  }
  const copy = await modelFromTopology(topology);
  for (const layer of copy.layers) {
    const index = vbns.findIndex((l) => l.name === layer.name);
    if (index < 0) {
      copyLayerWeights(layer, model.getLayer(layer.name));
      continue;
    }
    // By name: getWeights() lists trainable weights first, and gamma may be frozen (the K+1 generator's).
    const byName = (suffix: string): tf.Tensor => {
      const w = vbns[index].weights.find((v) => v.originalName.endsWith(`/${suffix}`));
      if (w === undefined) throw new Error(`freezeVirtualBatchNorm: expected ${vbns[index].name}/${suffix}, got none`);
      return w.read();
    };
    const [gamma, beta] = [byName('gamma'), byName('beta')];
    const [mean, variance] = stats[index];
    layer.setWeights([gamma, beta, mean, variance]);
  }
  tf.dispose(stats);
  return copy;
}
