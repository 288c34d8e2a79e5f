import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasmConfig } from './conv2d-backprop-filter';
import { makeConv2dBackpropInputWasm } from './conv2d-backprop-input';

/** Kernel functions installed by ganql, so a second registration can recognise them. */
const ganqlKernels = new WeakSet<tf.KernelFunc>();

function install(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  ganqlKernels.add(config.kernelFunc);
  tf.registerKernel(config);
}

/**
 * Registers ganql's custom kernels for `backendName` and returns their names.
 * Best called after `await tf.setBackend(name)` (initBackend does); registered earlier, the wrapped
 * native kernel's setup still runs when the backend initialises.
 * Calling it twice is harmless: kernels already ours are left in place.
 */
export function registerCustomKernels(backendName: string): string[] {
  if (backendName !== 'wasm') return [];
  const names: string[] = [];

  const filter = tf.getKernel(conv2dBackpropFilterWasmConfig.kernelName, 'wasm');
  if (filter === undefined || !ganqlKernels.has(filter.kernelFunc)) install(conv2dBackpropFilterWasmConfig);
  names.push(conv2dBackpropFilterWasmConfig.kernelName);

  const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (input === undefined || !ganqlKernels.has(input.kernelFunc)) {
    install({
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      kernelFunc: makeConv2dBackpropInputWasm(),
    });
  }
  names.push('Conv2DBackpropInput');
  return names;
}
