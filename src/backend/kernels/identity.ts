import type * as tf from '@tensorflow/tfjs';
import { asWasmBackend, type WasmKernelArgs } from './wasm-tensors';

/**
 * Identity for wasm by sharing the input's data (a reference more) instead of copying it, as the
 * cpu backend does: tfjs never writes into a live data id, and the tape clones every tensor a
 * gradient saves, so wasm's copying Identity made each training step copy most activations once more.
 */
export function identityWasm(args: WasmKernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend);
  const x = args.inputs.x;
  if (x === undefined) throw new Error('Identity: expected input "x", got none');
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityWasmConfig: tf.KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identityWasm,
};
