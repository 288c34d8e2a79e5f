import * as tf from '@tensorflow/tfjs';
import { philoxKey, philoxNormal } from '../random/philox-normal';
import { asWasmBackend, heapF32, type WasmKernelArgs } from './wasm-tensors';

/** Seeded Gaussian noise (no inputs; attrs shape, mean, std, seed): src/backend/random/philox-normal.ts's stream. */
export const PHILOX_NORMAL = 'GanqlPhiloxNormal';

export interface PhiloxNormalAttrs {
  shape: number[];
  mean: number;
  std: number;
  seed: number;
}

/** The attrs, checked: what the kernel was asked for, or a precise error. */
export function philoxNormalAttrs(attrs: tf.NamedAttrMap | undefined): PhiloxNormalAttrs {
  const shape = attrs?.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new Error(`${PHILOX_NORMAL}: expected shape to be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const [mean, std, seed] = (['mean', 'std', 'seed'] as const).map((name) => {
    const v = attrs?.[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${PHILOX_NORMAL}: expected a finite ${name}, got ${JSON.stringify(v)}`);
    return v;
  });
  philoxKey(seed);
  return { shape: shape as number[], mean, std, seed };
}

/** The wasm kernel: the stream computed in JS, written into the output's heap memory. */
export function philoxNormalWasm(args: WasmKernelArgs): tf.TensorInfo {
  const { shape, mean, std, seed } = philoxNormalAttrs(args.attrs);
  const backend = asWasmBackend(args.backend);
  const out = backend.makeOutput(shape, 'float32');
  const view = heapF32(backend, out);
  view.set(philoxNormal(view.length, mean, std, seed));
  return out;
}

export const philoxNormalWasmConfig: tf.KernelConfig = { kernelName: PHILOX_NORMAL, backendName: 'wasm', kernelFunc: philoxNormalWasm };

/**
 * N(mean, std) noise of `shape`, seeded: the backend's PHILOX_NORMAL kernel where registered (wasm;
 * native with the addon), else the same stream from JS. Not differentiable (no inputs).
 */
export function seededPhiloxNormal(shape: number[], mean: number, std: number, seed: number): tf.Tensor {
  if (tf.getKernel(PHILOX_NORMAL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel<tf.Tensor>(PHILOX_NORMAL, {}, { shape, mean, std, seed });
  }
  return tf.tensor(philoxNormal(tf.util.sizeFromShape(shape), mean, std, seed), shape, 'float32');
}
