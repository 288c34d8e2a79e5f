import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, adamUpdate } from './adam-update';
import { PHILOX_NORMAL, philoxNormalAttrs } from './philox-normal';
import { philoxKey } from '../random/philox-normal';
import { asWasmBackend, heapF32, type WasmKernelArgs } from './wasm-tensors';
import { convShapeArray, type NativeAddon } from '../native/addon';

/**
 * Training kernels of the wasm backend routed to ganql's native addon: the products (BatchMatMul,
 * _FusedMatMul), the convolutions with both gradients (Conv2D, FusedConv2D, Conv2DBackpropInput,
 * Conv2DBackpropFilter), ganql's Adam update, seeded Gaussian noise, Sigmoid and Tanh. Each reads and writes the wasm heap in place and falls
 * back to the kernel it wraps for what it does not cover (other dtypes, dilations, NCHW, broadcasts
 * other than a shared operand, activations other than those ACTIVATION_KINDS lists).
 */
export interface NativeKernelOptions {
  addon: NativeAddon;
  /** Threads one kernel call may use (the caller's and helpers): 1 keeps the call on its thread. */
  threads: number;
}

export interface NativeKernel {
  name: string;
  /** The native kernel, given the one registered before it. */
  wrap: (fallback: tf.KernelFunc) => tf.KernelFunc;
}

type Activation = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'sigmoid' | 'tanh';

const activations: readonly string[] = ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'tanh'];

function isActivation(value: unknown): value is Activation {
  return typeof value === 'string' && activations.includes(value);
}

const isFloat = (...infos: (tf.TensorInfo | undefined)[]): boolean => infos.every((t) => t === undefined || t.dtype === 'float32');

/** The addon's biasActivate kind of each activation. */
const ACTIVATION_KINDS: Record<Activation, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, tanh: 5 };
const NO_BIAS = new Float32Array(0);

/** The fused op's extras when native can apply them: a per-column or scalar bias and a known activation. */
function fusedExtras(args: WasmKernelArgs, columns: number): { bias?: tf.TensorInfo; activation: Activation; alpha: number } | undefined {
  const attrs = args.attrs ?? {};
  const activation = attrs.activation ?? 'linear';
  if (!isActivation(activation) || args.inputs.preluActivationWeights !== undefined) return undefined;
  const bias = args.inputs.bias;
  if (bias !== undefined && (!isFloat(bias) || (tf.util.sizeFromShape(bias.shape) !== columns && tf.util.sizeFromShape(bias.shape) !== 1))) return undefined;
  const alpha = typeof attrs.leakyreluAlpha === 'number' ? attrs.leakyreluAlpha : 0.2;
  return { ...(bias !== undefined ? { bias } : {}), activation, alpha };
}

function matMulKernel(name: 'BatchMatMul' | '_FusedMatMul', options: NativeKernelOptions): NativeKernel {
  return {
    name,
    wrap: (fallback) => (args) => {
      const { a, b } = args.inputs;
      if (a === undefined || b === undefined || !isFloat(a, b) || a.shape.length < 2 || b.shape.length < 2) return fallback(args);
      const attrs = args.attrs ?? {};
      const ta = attrs.transposeA === true;
      const tb = attrs.transposeB === true;
      const ra = a.shape.length;
      const rb = b.shape.length;
      const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
      const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
      const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
      const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const batchA = tf.util.sizeFromShape(outerA);
      const batchB = tf.util.sizeFromShape(outerB);
      const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
      if (k !== kb || m * n * k === 0 || !(sameOuter || batchA === 1 || batchB === 1)) return fallback(args);
      const extras = name === '_FusedMatMul' ? fusedExtras(args, n) : { activation: 'linear' as const, alpha: 0 };
      if (extras === undefined) return fallback(args);
      const outer = batchA >= batchB ? outerA : outerB;
      const batch = Math.max(batchA, batchB);
      const backend = asWasmBackend(args.backend);
      const out = backend.makeOutput([...outer, m, n], 'float32');
      const av = heapF32(backend, a);
      const bv = heapF32(backend, b);
      const ov = heapF32(backend, out);
      if (batchB === 1 && !ta) {
        // A shared right operand: the batch is one product of batch*m rows.
        options.addon.matmul(av, bv, ov, batch * m, n, k, false, tb, options.threads);
      } else {
        for (let i = 0; i < batch; i++) {
          const ai = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
          const bi = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
          options.addon.matmul(ai, bi, ov.subarray(i * m * n, (i + 1) * m * n), m, n, k, ta, tb, options.threads);
        }
      }
      const bias = extras.bias !== undefined ? heapF32(backend, extras.bias) : NO_BIAS;
      if (bias.length > 0 || extras.activation !== 'linear') options.addon.biasActivate(ov, ov, bias, ACTIVATION_KINDS[extras.activation], extras.alpha);
      return out;
    },
  };
}

/** The convolution's geometry when native covers it: NHWC, no dilation. */
function convInfo(attrs: tf.NamedAttrMap, inputShape: number[], filterShape: number[]): { info: tf.backend_util.Conv2DInfo; shape: Int32Array } | undefined {
  const format = attrs.dataFormat;
  if (format !== undefined && format !== 'NHWC' && format !== 'channelsLast') return undefined;
  const d: unknown = attrs.dilations;
  const dilations = d === undefined || d === null ? [1] : Array.isArray(d) ? d : [d];
  if (!dilations.every((v) => v === 1) || inputShape.length !== 4 || filterShape.length !== 4) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  if (info.padInfo.top < 0 || info.padInfo.left < 0 || info.outHeight <= 0 || info.outWidth <= 0 || info.batchSize === 0 || info.inChannels === 0) {
    return undefined;
  }
  const shape = convShapeArray({
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    outChannels: info.outChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  return { info, shape };
}

function conv2dKernel(name: 'Conv2D' | 'FusedConv2D', options: NativeKernelOptions): NativeKernel {
  return {
    name,
    wrap: (fallback) => (args) => {
      const { x, filter } = args.inputs;
      if (x === undefined || filter === undefined || !isFloat(x, filter)) return fallback(args);
      const conv = convInfo(args.attrs ?? {}, x.shape, filter.shape);
      if (conv === undefined) return fallback(args);
      const { info, shape } = conv;
      const extras = name === 'FusedConv2D' ? fusedExtras(args, info.outChannels) : { activation: 'linear' as const, alpha: 0 };
      if (extras === undefined) return fallback(args);
      const backend = asWasmBackend(args.backend);
      const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
      const ov = heapF32(backend, out);
      options.addon.conv2d(heapF32(backend, x), heapF32(backend, filter), ov, shape, options.threads);
      const bias = extras.bias !== undefined ? heapF32(backend, extras.bias) : NO_BIAS;
      if (bias.length > 0 || extras.activation !== 'linear') options.addon.biasActivate(ov, ov, bias, ACTIVATION_KINDS[extras.activation], extras.alpha);
      return out;
    },
  };
}

/**
 * A convolution gradient on the addon: `inputs` names the two tensors it reads (the first with dy's
 * shape or the convolution's input), `shapeAttr` the attr giving the output's shape, which is also the
 * convolution's input (Conv2DBackpropInput) or filter (Conv2DBackpropFilter) shape.
 */
function convGradientKernel(
  name: 'Conv2DBackpropInput' | 'Conv2DBackpropFilter',
  options: NativeKernelOptions,
  run: (a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array) => void,
): NativeKernel {
  const [first, second, shapeAttr] = name === 'Conv2DBackpropInput' ? (['dy', 'filter', 'inputShape'] as const) : (['x', 'dy', 'filterShape'] as const);
  return {
    name,
    wrap: (fallback) => (args) => {
      const a = args.inputs[first];
      const b = args.inputs[second];
      const attrs = args.attrs ?? {};
      const outShape = attrs[shapeAttr] as number[] | undefined;
      if (a === undefined || b === undefined || outShape === undefined || !isFloat(a, b)) return fallback(args);
      const dy = name === 'Conv2DBackpropInput' ? a : b;
      const conv = name === 'Conv2DBackpropInput' ? convInfo(attrs, outShape, b.shape) : convInfo(attrs, a.shape, outShape);
      if (conv === undefined || dy.shape.join() !== [conv.info.batchSize, conv.info.outHeight, conv.info.outWidth, conv.info.outChannels].join()) {
        return fallback(args);
      }
      const backend = asWasmBackend(args.backend);
      const out = backend.makeOutput(outShape, 'float32');
      run(heapF32(backend, a), heapF32(backend, b), heapF32(backend, out), conv.shape);
      return out;
    },
  };
}

/** ganql's Adam update on the addon: the same double-precision arithmetic, split over threads for large variables. */
function adamUpdateKernel(options: NativeKernelOptions): NativeKernel {
  return {
    name: ADAM_UPDATE,
    wrap: () => (args) => adamUpdate(args, (t, hyper) => options.addon.adamUpdate(t.value, t.g, t.m, t.v, t.outValue, t.outM, t.outV, hyper, options.threads)),
  };
}

/** Seeded Gaussian noise on the addon: the same Philox stream as the JS kernel, split over threads. */
function philoxNormalKernel(options: NativeKernelOptions): NativeKernel {
  return {
    name: PHILOX_NORMAL,
    wrap: () => (args) => {
      const { shape, mean, std, seed } = philoxNormalAttrs(args.attrs);
      const backend = asWasmBackend(args.backend);
      const out = backend.makeOutput(shape, 'float32');
      const [k0, k1] = philoxKey(seed);
      options.addon.philoxNormal(heapF32(backend, out), mean, std, k0, k1, options.threads);
      return out;
    },
  };
}

/** Sigmoid or Tanh on the addon (wasm's loops call the C library's function per value, about 10x slower). */
function activationKernel(name: 'Sigmoid' | 'Tanh', options: NativeKernelOptions): NativeKernel {
  const kind = ACTIVATION_KINDS[name === 'Sigmoid' ? 'sigmoid' : 'tanh'];
  return {
    name,
    wrap: (fallback) => (args) => {
      const x = args.inputs.x;
      if (x === undefined || !isFloat(x)) return fallback(args);
      const backend = asWasmBackend(args.backend);
      const out = backend.makeOutput(x.shape, 'float32');
      options.addon.biasActivate(heapF32(backend, x), heapF32(backend, out), NO_BIAS, kind, 0);
      return out;
    },
  };
}

/** The native kernels, each wrapping the wasm kernel of its name. */
export function nativeKernels(options: NativeKernelOptions): NativeKernel[] {
  if (!Number.isInteger(options.threads) || options.threads < 1)
    throw new Error(`Expected native kernel threads to be a positive integer, got ${options.threads}`);
  return [
    matMulKernel('BatchMatMul', options),
    matMulKernel('_FusedMatMul', options),
    conv2dKernel('Conv2D', options),
    conv2dKernel('FusedConv2D', options),
    convGradientKernel('Conv2DBackpropInput', options, (dy, w, dx, shape) => options.addon.conv2dInputGrad(dy, w, dx, shape, options.threads)),
    convGradientKernel('Conv2DBackpropFilter', options, (x, dy, dw, shape) => options.addon.conv2dFilterGrad(x, dy, dw, shape, options.threads)),
    adamUpdateKernel(options),
    philoxNormalKernel(options),
    activationKernel('Sigmoid', options),
    activationKernel('Tanh', options),
  ];
}
