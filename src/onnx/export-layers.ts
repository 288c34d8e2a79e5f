import * as tf from '@tensorflow/tfjs';
import { IDENTITY_AT_INFERENCE } from '../models/layer-info';
import { WeightNormDense } from '../models/layers/weight-norm-dense';
import { GraphBuilder, type AttributeValue, type GraphValue } from './onnx-graph';
import { OnnxExportError } from './onnx-export-error';

/** The layer classes exportLayer writes (besides InputLayer, which the model walk handles). */
export const EXPORTED_LAYERS: readonly string[] = [
  'Dense',
  'WeightNormDense',
  'Conv2D',
  'Conv2DTranspose',
  'BatchNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'Reshape',
  'Flatten',
  'Rescaling',
  ...IDENTITY_AT_INFERENCE,
];

/** tfjs activations and the ONNX ops that compute them; `softmax` is over the last axis, as in tfjs. */
export const EXPORTED_ACTIVATIONS: readonly string[] = [
  'linear',
  'relu',
  'relu6',
  'tanh',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'elu',
  'selu',
  'hardSigmoid',
];

/**
 * Writes `layer` (applied to `input`) into `graph` and returns its output value. Rank-4 values are
 * kept channels-first between convolutions and turned back to tfjs's channels-last only where a
 * layer reads the element order (reshape, flatten, dense, softmax, the graph output).
 */
export function exportLayer(layer: tf.layers.Layer, input: GraphValue, graph: GraphBuilder): GraphValue {
  const className = layer.getClassName();
  if (IDENTITY_AT_INFERENCE.has(className)) return input;
  const shape = outputShape(layer);
  switch (className) {
    case 'Dense': {
      const kernel = weight(layer, 'kernel');
      const bias = layer.getConfig().useBias === false ? undefined : weight(layer, 'bias');
      return dense(graph, layer.name, input, kernel, bias, shape, activationOf(layer));
    }
    case 'WeightNormDense': {
      if (!(layer instanceof WeightNormDense)) throw unsupported(layer, "a WeightNormDense that is not ganql's own");
      const kernel = layer.kernel();
      try {
        return dense(graph, layer.name, input, values(kernel), values(layer.bias()), shape, layer.activation);
      } finally {
        kernel.dispose();
      }
    }
    case 'Conv2D':
    case 'Conv2DTranspose':
      return convolution(graph, layer, className, input, shape);
    case 'BatchNormalization':
      return batchNorm(graph, layer, input, shape);
    case 'Activation':
      return activation(graph, layer.name, input, stringConfig(layer, 'activation'));
    case 'ReLU': {
      const maxValue = layer.getConfig().maxValue;
      if (maxValue === null || maxValue === undefined) return activation(graph, layer.name, input, 'relu');
      if (typeof maxValue !== 'number') throw unsupported(layer, `maxValue ${JSON.stringify(maxValue)}`);
      return clip(graph, layer.name, input, 0, maxValue);
    }
    case 'LeakyReLU':
      return { ...input, name: graph.node('LeakyRelu', [input.name], layer.name, { alpha: { float: numberConfig(layer, 'alpha') } }) };
    case 'Reshape': {
      const x = graph.inLayout(input, 'nhwc');
      // 0 keeps the batch size of the input; tfjs's own -1 (if any) is inferred as in tfjs.
      const target = graph.int64s(`${layer.name}_shape`, [0, ...numbersConfig(layer, 'targetShape')]);
      return { name: graph.node('Reshape', [x.name, target], layer.name), shape, layout: 'nhwc' };
    }
    case 'Flatten': {
      const x = graph.inLayout(input, 'nhwc');
      return { name: graph.node('Flatten', [x.name], layer.name, { axis: 1 }), shape, layout: 'nhwc' };
    }
    case 'Rescaling': {
      const scale = numberConfig(layer, 'scale');
      const offset = numberConfig(layer, 'offset');
      let value = input;
      if (scale !== 1) value = { ...value, name: graph.node('Mul', [value.name, graph.floats(`${layer.name}_scale`, [scale], [])], `${layer.name}_scaled`) };
      if (offset !== 0)
        value = { ...value, name: graph.node('Add', [value.name, graph.floats(`${layer.name}_offset`, [offset], [])], `${layer.name}_offset_added`) };
      return value === input ? { ...input, name: graph.node('Identity', [input.name], layer.name) } : value;
    }
    default:
      throw unsupported(layer, `the exporter writes ${EXPORTED_LAYERS.join(', ')}`);
  }
}

/** y = act(x W + b) over the last axis: Gemm on [N, in], MatMul + Add on higher ranks. */
function dense(
  graph: GraphBuilder,
  name: string,
  input: GraphValue,
  kernel: Float32Array,
  bias: Float32Array | undefined,
  shape: number[],
  act: string,
): GraphValue {
  const x = graph.inLayout(input, 'nhwc');
  const inputs = x.shape[x.shape.length - 1];
  const units = shape[shape.length - 1];
  const w = graph.floats(`${name}_kernel`, kernel, [inputs, units]);
  const b = bias === undefined ? undefined : graph.floats(`${name}_bias`, bias, [units]);
  const linearName = act === 'linear' ? name : `${name}_linear`;
  let linear: string;
  if (x.shape.length === 1) {
    linear = graph.node('Gemm', b === undefined ? [x.name, w] : [x.name, w, b], linearName);
  } else if (b === undefined) {
    linear = graph.node('MatMul', [x.name, w], linearName);
  } else {
    linear = graph.node('Add', [graph.node('MatMul', [x.name, w], `${name}_matmul`), b], linearName);
  }
  return activation(graph, name, { name: linear, shape, layout: 'nhwc' }, act);
}

/** Conv2D ([kh, kw, in, out] -> Conv's [out, in, kh, kw]) or Conv2DTranspose ([kh, kw, out, in] -> ConvTranspose's [in, out, kh, kw]), channels-first. */
function convolution(graph: GraphBuilder, layer: tf.layers.Layer, className: 'Conv2D' | 'Conv2DTranspose', input: GraphValue, shape: number[]): GraphValue {
  const config = layer.getConfig();
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast')
    throw unsupported(layer, `data format ${JSON.stringify(config.dataFormat)} (expected channelsLast)`);
  const dilation = pair(layer, 'dilationRate', [1, 1]);
  if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, `dilation ${dilation.join('x')} (expected 1x1)`);
  const kernelTensor = weightTensor(layer, 'kernel');
  const [kh, kw, a, b] = kernelTensor.shape;
  // Both kernels go from [kh, kw, a, b] to [b, a, kh, kw]: Conv reads [out, in, ...], ConvTranspose [in, out, ...].
  const w = graph.floats(`${layer.name}_kernel`, transposeKernel(values(kernelTensor), kh, kw, a, b), [b, a, kh, kw]);
  const bias = config.useBias === false ? undefined : graph.floats(`${layer.name}_bias`, weight(layer, 'bias'), [className === 'Conv2D' ? b : a]);
  const strides = pair(layer, 'strides', [1, 1]);
  const padding = stringConfig(layer, 'padding');
  if (padding !== 'same' && padding !== 'valid') throw unsupported(layer, `padding ${padding} (expected same or valid)`);
  const x = graph.inLayout(input, 'nchw');
  const [inH, inW] = input.shape;
  const [outH, outW] = shape;
  const inputs = bias === undefined ? [x.name, w] : [x.name, w, bias];
  const act = activationOf(layer);
  const linearName = act === 'linear' ? layer.name : `${layer.name}_linear`;
  let linear: string;
  if (className === 'Conv2D') {
    const [top, bottom] = convPads(inH, outH, kh, strides[0], padding);
    const [left, right] = convPads(inW, outW, kw, strides[1], padding);
    linear = graph.node('Conv', inputs, linearName, { kernel_shape: [kh, kw], strides, pads: [top, left, bottom, right] });
  } else {
    const [top, bottom, extraH] = transposePads(inH, outH, kh, strides[0]);
    const [left, right, extraW] = transposePads(inW, outW, kw, strides[1]);
    const attributes = { kernel_shape: [kh, kw], strides, pads: [top, left, bottom, right] };
    linear = graph.node('ConvTranspose', inputs, linearName, extraH > 0 || extraW > 0 ? { ...attributes, output_padding: [extraH, extraW] } : attributes);
  }
  return activation(graph, layer.name, { name: linear, shape, layout: 'nchw' }, act);
}

/**
 * Padding before and after of a forward convolution, as TensorFlow pads: 'same' splits the total
 * padding with the odd pixel after, 'valid' pads nothing.
 */
function convPads(inSize: number, outSize: number, kernel: number, stride: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((outSize - 1) * stride + kernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * ConvTranspose's crop before and after, and its output_padding, for a tfjs transposed convolution
 * from `inSize` to `outSize` (the gradient of a forward convolution from outSize to inSize, padded as
 * TensorFlow pads it). ONNX's size is stride * (in - 1) + kernel + output_padding - pads.
 */
function transposePads(inSize: number, outSize: number, kernel: number, stride: number): [number, number, number] {
  const total = Math.max((inSize - 1) * stride + kernel - outSize, 0);
  const before = Math.floor(total / 2);
  const extra = outSize - (stride * (inSize - 1) + kernel - total);
  if (extra < 0 || extra >= stride)
    throw new OnnxExportError(`transposed convolution ${inSize} -> ${outSize} with kernel ${kernel}, stride ${stride}: no ONNX padding gives that size`);
  return [before, total - before, extra];
}

/** [kh, kw, a, b] -> [b, a, kh, kw]. */
function transposeKernel(kernel: Float32Array, kh: number, kw: number, a: number, b: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < a; i++) for (let o = 0; o < b; o++) out[((o * a + i) * kh + y) * kw + x] = kernel[((y * kw + x) * a + i) * b + o];
  return out;
}

/** A batchnorm left unfolded: its inference statistics as y = x * scale + shift per channel (the last tfjs axis). */
function batchNorm(graph: GraphBuilder, layer: tf.layers.Layer, input: GraphValue, shape: number[]): GraphValue {
  const config = layer.getConfig();
  const axis = config.axis;
  if (!(axis === -1 || axis === input.shape.length)) throw unsupported(layer, `axis ${JSON.stringify(axis)} (expected the channel axis, -1)`);
  const mean = weight(layer, 'moving_mean');
  const variance = weight(layer, 'moving_variance');
  const channels = mean.length;
  const gamma = config.scale === false ? new Float32Array(channels).fill(1) : weight(layer, 'gamma');
  const beta = config.center === false ? new Float32Array(channels) : weight(layer, 'beta');
  const epsilon = Number(config.epsilon);
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = gamma[c] / Math.sqrt(variance[c] + epsilon);
    scale[c] = s;
    shift[c] = beta[c] - mean[c] * s;
  }
  // Broadcast over the channel axis: the last one, or axis 1 of a channels-first value.
  const channelShape = input.shape.length === 3 && input.layout === 'nchw' ? [channels, 1, 1] : [channels];
  const scaled = graph.node('Mul', [input.name, graph.floats(`${layer.name}_scale`, scale, channelShape)], `${layer.name}_scaled`);
  return { name: graph.node('Add', [scaled, graph.floats(`${layer.name}_shift`, shift, channelShape)], layer.name), shape, layout: input.layout };
}

/** `act` (a tfjs activation name) applied to `input`, written as `name`; 'linear' writes nothing. */
export function activation(graph: GraphBuilder, name: string, input: GraphValue, act: string): GraphValue {
  const unary = (op: string, attributes: Record<string, AttributeValue> = {}): GraphValue => ({
    ...input,
    name: graph.node(op, [input.name], name, attributes),
  });
  switch (act) {
    case 'linear':
      return input;
    case 'relu':
      return unary('Relu');
    case 'relu6':
      return clip(graph, name, input, 0, 6);
    case 'tanh':
      return unary('Tanh');
    case 'sigmoid':
      return unary('Sigmoid');
    case 'softplus':
      return unary('Softplus');
    case 'softsign':
      return unary('Softsign');
    case 'elu':
      return unary('Elu', { alpha: { float: 1 } });
    case 'selu':
      // ONNX's default alpha and gamma are tfjs's (and Klambauer et al.'s) constants.
      return unary('Selu');
    case 'hardSigmoid':
      // tfjs: clip(0.2 x + 0.5, 0, 1).
      return unary('HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'softmax': {
      const x = graph.inLayout(input, 'nhwc');
      return { ...x, name: graph.node('Softmax', [x.name], name, { axis: -1 }) };
    }
    default:
      throw new OnnxExportError(`layer ${name}: activation ${JSON.stringify(act)} cannot be exported (the exporter writes ${EXPORTED_ACTIVATIONS.join(', ')})`);
  }
}

function clip(graph: GraphBuilder, name: string, input: GraphValue, min: number, max: number): GraphValue {
  const low = graph.floats(`${name}_min`, [min], []);
  const high = graph.floats(`${name}_max`, [max], []);
  return { ...input, name: graph.node('Clip', [input.name, low, high], name) };
}

/** The layer's output shape without the batch axis; every dimension must be known. */
function outputShape(layer: tf.layers.Layer): number[] {
  const shape = layer.outputShape;
  if (!Array.isArray(shape) || shape.some((d) => Array.isArray(d))) throw unsupported(layer, 'several outputs');
  const dims = (shape as (number | null)[]).slice(1);
  if (!dims.every((d): d is number => typeof d === 'number' && d > 0)) throw unsupported(layer, `output shape [${shape.join(', ')}] with unknown dimensions`);
  return dims;
}

function activationOf(layer: tf.layers.Layer): string {
  const act = layer.getConfig().activation;
  if (act === undefined || act === null) return 'linear';
  if (typeof act !== 'string') throw unsupported(layer, `activation ${JSON.stringify(act)} (expected a name)`);
  return act;
}

function weightTensor(layer: tf.layers.Layer, suffix: string): tf.Tensor {
  const index = layer.weights.findIndex((w) => w.originalName.endsWith(`/${suffix}`));
  if (index < 0) throw unsupported(layer, `no ${suffix} weight among ${layer.weights.map((w) => w.originalName).join(', ') || '(none)'}`);
  // The layer's own variable: read, never disposed here.
  return layer.getWeights()[index];
}

function weight(layer: tf.layers.Layer, suffix: string): Float32Array {
  return values(weightTensor(layer, suffix));
}

function values(tensor: tf.Tensor): Float32Array {
  if (tensor.dtype !== 'float32') throw new OnnxExportError(`expected float32 weights, got ${tensor.dtype}`);
  return tensor.dataSync() as Float32Array;
}

function numberConfig(layer: tf.layers.Layer, key: string): number {
  const value = layer.getConfig()[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw unsupported(layer, `${key} ${JSON.stringify(value)} (expected a number)`);
  return value;
}

function numbersConfig(layer: tf.layers.Layer, key: string): number[] {
  const value = layer.getConfig()[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isInteger(v)))
    throw unsupported(layer, `${key} ${JSON.stringify(value)} (expected integers)`);
  return value as number[];
}

function stringConfig(layer: tf.layers.Layer, key: string): string {
  const value = layer.getConfig()[key];
  if (typeof value !== 'string') throw unsupported(layer, `${key} ${JSON.stringify(value)} (expected a string)`);
  return value;
}

/** A [height, width] setting given as one number or two. */
function pair(layer: tf.layers.Layer, key: string, fallback: [number, number]): [number, number] {
  const value = layer.getConfig()[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return [value[0], value[1]];
  throw unsupported(layer, `${key} ${JSON.stringify(value)} (expected one or two integers)`);
}

function unsupported(layer: tf.layers.Layer, what: string): OnnxExportError {
  return new OnnxExportError(`layer ${layer.name} (${layer.getClassName()}) cannot be exported: ${what}`);
}
