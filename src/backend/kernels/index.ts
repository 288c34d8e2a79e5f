import * as tf from '@tensorflow/tfjs';
import { adamUpdateWasmConfig } from './adam-update';
import { makeUnflaggedMatMulWasm } from './batch-mat-mul';
import { makeBroadcastEqualWasm } from './broadcast-equal';
import { conv2dBackpropFilterWasmConfig } from './conv2d-backprop-filter';
import { makeConv2dBackpropInputWasm } from './conv2d-backprop-input';
import { fusedBatchNormGradWasmConfig, makeFusedBatchNormGradConfig } from './fused-batch-norm-grad';
import { identityWasmConfig } from './identity';
import { leakyReluGradWasmConfig, leakyReluWasmConfig, makeLeakyReluGradConfig } from './leaky-relu';
import { makeLeadingAxesReduceWasm } from './leading-axes-reduce';
import { nativeKernels, type NativeKernelOptions } from './native-kernels';
import { philoxNormalWasmConfig } from './philox-normal';

/** Kernel and gradient functions installed by ganql, so a second registration can recognise them. */
const ganqlFunctions = new WeakSet<object>();

/** A wasm kernel of ganql's, made from the kernel registered before it (undefined when there was none). */
interface WasmKernel {
  name: string;
  make: (native: tf.KernelConfig | undefined) => tf.KernelConfig;
}

const requireNative = (name: string, native: tf.KernelConfig | undefined): tf.KernelConfig => {
  if (native === undefined) throw new Error(`Expected wasm's own ${name} kernel to wrap, got none`);
  return native;
};

/** A matMul kernel that runs transposed operands on the fast path, wrapping wasm's own `name`. */
function unflaggedMatMul(name: '_FusedMatMul' | 'BatchMatMul'): WasmKernel {
  return {
    name,
    make: (native) => {
      const config = requireNative(name, native);
      // The native config keeps its setupFunc, so a re-initialised backend still binds the wasm function.
      return { ...config, ...makeUnflaggedMatMulWasm(name, config.kernelFunc) };
    },
  };
}

/** A reduction over leading axes as one product, wrapping wasm's own `name` for every other case. */
function leadingAxesReduce(name: 'Mean' | 'Sum'): WasmKernel {
  return { name, make: (native) => makeLeadingAxesReduceWasm(name, requireNative(name, native)) };
}

/** Each wraps or replaces a kernel of the same name; the order is the order of the returned names. */
const wasmKernels: readonly WasmKernel[] = [
  { name: 'Conv2DBackpropFilter', make: () => conv2dBackpropFilterWasmConfig },
  { name: 'Conv2DBackpropInput', make: () => ({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: makeConv2dBackpropInputWasm() }) },
  { name: 'Identity', make: () => identityWasmConfig },
  unflaggedMatMul('BatchMatMul'),
  unflaggedMatMul('_FusedMatMul'),
  { name: fusedBatchNormGradWasmConfig.kernelName, make: () => fusedBatchNormGradWasmConfig },
  { name: 'LeakyRelu', make: () => leakyReluWasmConfig },
  { name: leakyReluGradWasmConfig.kernelName, make: () => leakyReluGradWasmConfig },
  { name: adamUpdateWasmConfig.kernelName, make: () => adamUpdateWasmConfig },
  leadingAxesReduce('Sum'),
  leadingAxesReduce('Mean'),
  { name: philoxNormalWasmConfig.kernelName, make: () => philoxNormalWasmConfig },
  { name: 'Equal', make: (native) => ({ ...requireNative('Equal', native), ...makeBroadcastEqualWasm(requireNative('Equal', native).kernelFunc) }) },
];

/** Gradients that call the kernels above where the backend has them, and tfjs's own elsewhere. */
const gradients: readonly { name: string; make: (fallback: tf.GradConfig) => tf.GradConfig }[] = [
  { name: 'FusedBatchNorm', make: makeFusedBatchNormGradConfig },
  { name: 'LeakyRelu', make: makeLeakyReluGradConfig },
];

function installKernel(kernel: WasmKernel): void {
  const current = tf.getKernel(kernel.name, 'wasm');
  if (current !== undefined && ganqlFunctions.has(current.kernelFunc)) return;
  const config = kernel.make(current);
  if (current !== undefined) tf.unregisterKernel(kernel.name, 'wasm');
  ganqlFunctions.add(config.kernelFunc);
  tf.registerKernel(config);
}

function installGradient(name: string, make: (fallback: tf.GradConfig) => tf.GradConfig): void {
  const current = tf.getGradient(name);
  if (current === undefined) throw new Error(`Expected tfjs's own gradient of ${name}, got none`);
  if (ganqlFunctions.has(current.gradFunc)) return;
  const config = make(current);
  ganqlFunctions.add(config.gradFunc);
  tf.registerGradient(config);
}

/**
 * Registers ganql's custom kernels for `backendName` and returns their names.
 * Best called after `await tf.setBackend(name)` (initBackend does); registered earlier, the wrapped
 * native kernel's setup still runs when the backend initialises.
 * Calling it twice is harmless: kernels already ours are left in place. The gradients it installs are
 * global (tfjs keeps one per kernel name) but use ganql's kernels only on a backend that has them.
 */
export function registerCustomKernels(backendName: string): string[] {
  if (backendName !== 'wasm') return [];
  for (const kernel of wasmKernels) installKernel(kernel);
  for (const { name, make } of gradients) installGradient(name, make);
  return wasmKernels.map((k) => k.name);
}

/** The kernel each native kernel wraps, so registering again (with other options) wraps the same one. */
const nativeFallbacks = new WeakMap<object, tf.KernelFunc>();

/**
 * Routes wasm's products and convolutions to ganql's native addon (see native/native-kernels.ts),
 * each wrapping the kernel registered before it. Call after registerCustomKernels; calling again
 * replaces the options. Returns the kernel names.
 */
export function registerNativeKernels(options: NativeKernelOptions): string[] {
  const kernels = nativeKernels(options);
  for (const kernel of kernels) {
    const current = tf.getKernel(kernel.name, 'wasm');
    if (current === undefined) throw new Error(`Expected a wasm ${kernel.name} kernel to wrap, got none`);
    const fallback = nativeFallbacks.get(current.kernelFunc) ?? current.kernelFunc;
    const kernelFunc = kernel.wrap(fallback);
    nativeFallbacks.set(kernelFunc, fallback);
    ganqlFunctions.add(kernelFunc);
    tf.unregisterKernel(kernel.name, 'wasm');
    // The wrapped kernel's setup and dispose still bind and free its wasm function when the backend re-initialises.
    tf.registerKernel({ ...current, kernelFunc });
  }
  return kernels.map((k) => k.name);
}
