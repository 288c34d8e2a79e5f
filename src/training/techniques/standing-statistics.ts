import * as tf from '@tensorflow/tfjs';

/** A batchnorm layer's moving mean and variance, by name (getWeights() order puts trainable weights first). */
function movingVariables(layer: tf.layers.Layer): [tf.LayerVariable, tf.LayerVariable] {
  const find = (suffix: string): tf.LayerVariable => {
    const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
    if (w === undefined) throw new Error(`standing statistics: expected ${layer.name}/${suffix}, got ${layer.weights.map((v) => v.originalName).join(', ')}`);
    return w;
  };
  return [find('moving_mean'), find('moving_variance')];
}

/** The BatchNormalization layers of a model, in order (virtual batchnorm normalises with its reference batch, and has none). */
export function batchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
}

/** Copies of the moving [mean, variance] of each batchnorm layer of `model` (the caller disposes them). */
export function movingStatistics(model: tf.LayersModel): [tf.Tensor, tf.Tensor][] {
  return batchNormLayers(model).map((l) => movingVariables(l).map((v) => v.read().clone()) as [tf.Tensor, tf.Tensor]);
}

/** Sets the moving [mean, variance] of each batchnorm layer of `model`, in batchNormLayers order. */
export function setMovingStatistics(model: tf.LayersModel, stats: readonly (readonly [tf.Tensor, tf.Tensor])[]): void {
  const layers = batchNormLayers(model);
  if (layers.length !== stats.length) throw new Error(`setMovingStatistics: expected ${layers.length} [mean, variance] pairs, got ${stats.length}`);
  layers.forEach((l, i) => movingVariables(l).forEach((v, j) => v.write(stats[i][j])));
}

/**
 * "Standing statistics" (Brock et al. 2019's accumulate_standing_stats): the moving mean and variance
 * each batchnorm layer of `model` settles on for the weights it has now. `model` runs in training
 * mode over `batches` (as it does in a training step: every batchnorm normalises with its batch), and
 * each layer gets the exact mean over the batches of its input's batch means, and of its (biased)
 * batch variances: what the layer's momentum average tracks, without the lag of weights that moved.
 * Returns one [mean, variance] per batchNormLayers(model) (the caller disposes them); the model's
 * own moving statistics are left as they were.
 */
export function standingStatistics(model: tf.LayersModel, batches: readonly tf.Tensor[]): [tf.Tensor, tf.Tensor][] {
  const layers = batchNormLayers(model);
  if (layers.length === 0) return [];
  if (batches.length === 0) throw new Error('standingStatistics: expected at least one batch, got none');
  // Shares the model's layers and weights: never dispose it (that would release them), just drop it.
  const inputsOf = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tf.SymbolicTensor) });
  // A training-mode pass moves the moving averages; they are put back below.
  const live = movingStatistics(model);
  let sums: tf.Tensor[] | null = null;
  try {
    for (const batch of batches) {
      const previous: tf.Tensor[] | null = sums;
      sums = tf.tidy(() => {
        const outs = inputsOf.apply(batch, { training: true }) as tf.Tensor | tf.Tensor[];
        const moments = (Array.isArray(outs) ? outs : [outs]).flatMap((x) => {
          const { mean, variance } = tf.moments(
            x,
            Array.from({ length: x.rank - 1 }, (_, i) => i),
          );
          return [mean, variance];
        });
        return previous === null ? moments : moments.map((m, i) => tf.add(previous[i], m));
      });
      tf.dispose(previous ?? []);
    }
    const totals = sums ?? [];
    const n = batches.length;
    return tf.tidy(() => layers.map((_, i) => [tf.div(totals[2 * i], n), tf.div(totals[2 * i + 1], n)] as [tf.Tensor, tf.Tensor]));
  } finally {
    tf.dispose(sums ?? []);
    setMovingStatistics(model, live);
    tf.dispose(live.flat());
  }
}
