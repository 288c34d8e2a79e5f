import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** What every ganql wasm kernel receives; the engine passes its backend object. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
}

/** The engine passes the active backend object; for kernels registered under 'wasm' it is a BackendWasm. */
export function asWasmBackend(backend: object): BackendWasm {
  const candidate = backend as Partial<BackendWasm>;
  if (typeof candidate.makeOutput !== 'function' || typeof candidate.typedArrayFromHeap !== 'function') {
    throw new Error('Expected the wasm backend object, got a backend without makeOutput/typedArrayFromHeap');
  }
  return backend as BackendWasm;
}

export function requireInput(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const info = inputs[name];
  if (info === undefined) throw new Error(`${kernel}: expected input "${name}", got none`);
  if (info.dtype !== 'float32') throw new Error(`${kernel}: expected "${name}" to be float32, got ${info.dtype}`);
  return info;
}

/** Float32 view on the wasm heap; take it after the last allocation, since heap growth detaches older views. */
export function heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Throws unless every dilation is 1 (attrs may carry a number or a pair). */
export function assertNoDilation(attrs: tf.NamedAttrMap, kernel: string): void {
  const d: unknown = attrs.dilations;
  if (d === undefined || d === null) return;
  const values = Array.isArray(d) ? d : [d];
  if (!values.every((v) => v === 1)) {
    throw new Error(`${kernel} (ganql wasm kernel): expected dilations of 1, got ${JSON.stringify(d)}`);
  }
}

/** Accepts 'NHWC' only; the wasm conv kernels are channels-last. */
export function assertNhwc(attrs: tf.NamedAttrMap, kernel: string): void {
  const f = attrs.dataFormat;
  if (f !== undefined && f !== 'NHWC' && f !== 'channelsLast') {
    throw new Error(`${kernel} (ganql wasm kernel): expected dataFormat 'NHWC', got ${JSON.stringify(f)}`);
  }
}
