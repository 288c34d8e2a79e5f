import * as tf from '@tensorflow/tfjs';
import { modelFromTopology, topologyOf, type LayerJson, type TopologyJson } from './topology';

/** Layers whose output channels are the last axis of the output, with a kernel and an optional bias. */
const FOLDABLE = new Set(['Dense', 'Conv2D', 'Conv2DTranspose']);

/** A BatchNormalization layer and the linear layer whose output only it reads. */
interface Pair {
  producer: LayerJson;
  norm: LayerJson;
}

/** Pairs (Dense | Conv2D | Conv2DTranspose, linear, not shared) -> BatchNormalization over the channel axis. */
function foldablePairs(topology: TopologyJson, model: tf.LayersModel): Pair[] {
  const byName = new Map(topology.config.layers.map((l) => [l.name, l]));
  const readers = new Map<string, number>();
  const countRead = (name: string) => readers.set(name, (readers.get(name) ?? 0) + 1);
  for (const layer of topology.config.layers) for (const node of layer.inbound_nodes) for (const [name] of node) countRead(name);
  for (const [name] of topology.config.output_layers) countRead(name);

  const pairs: Pair[] = [];
  for (const norm of topology.config.layers) {
    if (norm.class_name !== 'BatchNormalization' || norm.inbound_nodes.length !== 1 || norm.inbound_nodes[0].length !== 1) continue;
    const [producerName, nodeIndex, tensorIndex] = norm.inbound_nodes[0][0];
    const producer = byName.get(producerName);
    if (producer === undefined || !FOLDABLE.has(producer.class_name) || nodeIndex !== 0 || tensorIndex !== 0) continue;
    if (producer.inbound_nodes.length !== 1 || readers.get(producer.name) !== 1) continue;
    const activation = producer.config.activation;
    if (activation !== undefined && activation !== null && activation !== 'linear') continue;
    const format = producer.config.data_format;
    if (format !== undefined && format !== null && format !== 'channelsLast' && format !== 'channels_last') continue;
    // The normalised axis must be the channel axis (the last one) for a per-output-channel fold.
    const input = model.getLayer(norm.name).input;
    const rank = Array.isArray(input) ? 0 : input.shape.length;
    const axis = norm.config.axis;
    if (!(axis === -1 || (rank > 0 && axis === rank - 1))) continue;
    pairs.push({ producer, norm });
  }
  return pairs;
}

/** A weight of `layer` by the last part of its name (kernel, bias, gamma, moving_mean, ...). */
function weightTensor(layer: tf.layers.Layer, suffix: string): tf.Tensor | undefined {
  const index = layer.weights.findIndex((w) => w.originalName.endsWith(`/${suffix}`));
  return index < 0 ? undefined : layer.getWeights()[index];
}

function weightOf(layer: tf.layers.Layer, suffix: string): Float32Array | undefined {
  return weightTensor(layer, suffix)?.dataSync() as Float32Array | undefined;
}

/**
 * Kernel and bias of `producer` with the batchnorm after it folded in (inference statistics):
 * y = gamma * (x - mean) / sqrt(var + eps) + beta = x * scale + shift, per output channel,
 * so kernel' = kernel * scale along the output-channel axis and bias' = bias * scale + shift.
 */
function foldedWeights(producer: tf.layers.Layer, norm: tf.layers.Layer, className: string): [tf.Tensor, tf.Tensor] {
  const kernelTensor = weightTensor(producer, 'kernel');
  const kernel = kernelTensor?.dataSync() as Float32Array | undefined;
  const mean = weightOf(norm, 'moving_mean');
  const variance = weightOf(norm, 'moving_variance');
  if (kernelTensor === undefined || kernel === undefined || mean === undefined || variance === undefined) {
    throw new Error(`foldBatchNorm: expected ${producer.name}/kernel and ${norm.name}/moving_mean, moving_variance, got weights ${[...producer.weights, ...norm.weights].map((w) => w.originalName).join(', ')}`);
  }
  const channels = mean.length;
  const gamma = weightOf(norm, 'gamma') ?? new Float32Array(channels).fill(1);
  const beta = weightOf(norm, 'beta') ?? new Float32Array(channels);
  const bias = weightOf(producer, 'bias') ?? new Float32Array(channels);
  const epsilon = Number(norm.getConfig().epsilon);
  const scale = new Float64Array(channels);
  const newBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    newBias[c] = bias[c] * scale[c] + (beta[c] - mean[c] * scale[c]);
  }
  const shape = kernelTensor.shape;
  // Conv2DTranspose kernels are [kh, kw, out, in]; Dense [in, out] and Conv2D [kh, kw, in, out] end in out.
  const outAxis = className === 'Conv2DTranspose' ? 2 : shape.length - 1;
  if (shape[outAxis] !== channels) {
    throw new Error(`foldBatchNorm: expected ${producer.name} to have ${channels} output channels (axis ${outAxis} of [${shape}]), got ${shape[outAxis]}`);
  }
  const inner = shape.slice(outAxis + 1).reduce((a, b) => a * b, 1);
  const folded = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) folded[i] = kernel[i] * scale[Math.floor(i / inner) % channels];
  return [tf.tensor(folded, shape, 'float32'), tf.tensor1d(newBias, 'float32')];
}

/**
 * An inference-only copy of `model` in which every BatchNormalization that directly follows a linear
 * Dense, Conv2D or Conv2DTranspose (read by nothing else) is folded into that layer's kernel and bias,
 * using the moving statistics. Outputs match `model.predict` to float rounding; the copy must not be
 * trained (the batch statistics of training mode are gone). `model` is left untouched.
 */
export async function foldBatchNorm(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = topologyOf(model, 'foldBatchNorm');
  const pairs = foldablePairs(topology, model);
  const removed = new Map(pairs.map((p) => [p.norm.name, p.producer.name]));
  topology.config.layers = topology.config.layers.filter((l) => !removed.has(l.name));
  for (const layer of topology.config.layers) {
    for (const node of layer.inbound_nodes) for (const ref of node) ref[0] = removed.get(ref[0]) ?? ref[0];
  }
  for (const ref of topology.config.output_layers) ref[0] = removed.get(ref[0]) ?? ref[0];
  for (const { producer } of pairs) producer.config.use_bias = true;

  const folded = await modelFromTopology(topology);
  const foldedBy = new Map(pairs.map((p) => [p.producer.name, p]));
  for (const layer of folded.layers) {
    const pair = foldedBy.get(layer.name);
    const weights = pair ? foldedWeights(model.getLayer(pair.producer.name), model.getLayer(pair.norm.name), pair.producer.class_name) : model.getLayer(layer.name).getWeights();
    // A folded layer's weights were built just above and are ours to free; getWeights() hands out the model's own.
    layer.setWeights(weights);
    if (pair) tf.dispose(weights);
  }
  return folded;
}
