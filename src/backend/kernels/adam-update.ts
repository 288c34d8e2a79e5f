import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, heapF32, requireInput, type WasmKernelArgs } from './wasm-tensors';

/** One Adam step of one variable: inputs value, gradient, m, v; outputs the new value, m and v. */
export const ADAM_UPDATE = 'GanqlAdamUpdate';

export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** beta1^t and beta2^t of this step (t from 1), for the bias corrections. */
  accBeta1: number;
  accBeta2: number;
  /** epsilon inside the square root, sqrt(v_hat + eps), as the K+1 paper's code has it; absent or false: sqrt(v_hat) + eps (tfjs, PyTorch). */
  epsilonInside?: boolean;
}

function numberAttr(attrs: tf.NamedAttrMap | undefined, name: Exclude<keyof AdamUpdateAttrs, 'epsilonInside'>): number {
  const v = Number(attrs?.[name]);
  if (!Number.isFinite(v)) throw new Error(`${ADAM_UPDATE}: expected a numeric ${name}, got ${JSON.stringify(attrs?.[name])}`);
  return v;
}

/**
 * tfjs's AdamOptimizer update in one pass over the variable (its own runs 12 kernels per variable,
 * each a pass and an engine call):
 *   m' = b1 m + (1 - b1) g,  v' = b2 v + (1 - b2) g^2,
 *   value' = value - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
 * (or / sqrt(v' / (1 - b2^t) + eps) with epsilonInside).
 * Computed in float64 and rounded once per output, where tfjs rounds after every op.
 */
export function adamUpdateWasm(args: WasmKernelArgs): tf.TensorInfo[] {
  return adamUpdate(args, (views, hyper) => {
    const { value, g, m, v, outValue, outM, outV } = views;
    const [lr, b1, b2, eps, correction1, correction2, inside] = hyper;
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = b1 * m[i] + c1 * gi;
      const vi = b2 * v[i] + c2 * gi * gi;
      outM[i] = mi;
      outV[i] = vi;
      outValue[i] = value[i] - (lr * mi * correction1) / (inside === 1 ? Math.sqrt(vi * correction2 + eps) : Math.sqrt(vi * correction2) + eps);
    }
  });
}

/** The heap views of one update: inputs, then the new value, m and v. */
export interface AdamViews {
  value: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  outValue: Float32Array;
  outM: Float32Array;
  outV: Float32Array;
}

/** Checks the inputs, allocates the outputs and lets `update` fill them; hyper = [lr, b1, b2, eps, 1 / (1 - b1^t), 1 / (1 - b2^t), epsilon inside (1) or not (0)]. */
export function adamUpdate(args: WasmKernelArgs, update: (views: AdamViews, hyper: Float64Array) => void): tf.TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const valueInfo = requireInput(args.inputs, 'value', ADAM_UPDATE);
  const gradientInfo = requireInput(args.inputs, 'gradient', ADAM_UPDATE);
  const mInfo = requireInput(args.inputs, 'm', ADAM_UPDATE);
  const vInfo = requireInput(args.inputs, 'v', ADAM_UPDATE);
  const shape = valueInfo.shape.join();
  for (const [name, t] of [
    ['gradient', gradientInfo],
    ['m', mInfo],
    ['v', vInfo],
  ] as const) {
    if (t.shape.join() !== shape) throw new Error(`${ADAM_UPDATE}: expected ${name} of shape [${valueInfo.shape}], got [${t.shape}]`);
  }
  const hyper = Float64Array.of(
    numberAttr(args.attrs, 'learningRate'),
    numberAttr(args.attrs, 'beta1'),
    numberAttr(args.attrs, 'beta2'),
    numberAttr(args.attrs, 'epsilon'),
    1 / (1 - numberAttr(args.attrs, 'accBeta1')),
    1 / (1 - numberAttr(args.attrs, 'accBeta2')),
    args.attrs?.epsilonInside === true ? 1 : 0,
  );
  const newValue = backend.makeOutput(valueInfo.shape, 'float32');
  const newM = backend.makeOutput(valueInfo.shape, 'float32');
  const newV = backend.makeOutput(valueInfo.shape, 'float32');
  // Views taken after the last allocation: heap growth detaches older ones.
  update(
    {
      value: heapF32(backend, valueInfo),
      g: heapF32(backend, gradientInfo),
      m: heapF32(backend, mInfo),
      v: heapF32(backend, vInfo),
      outValue: heapF32(backend, newValue),
      outM: heapF32(backend, newM),
      outV: heapF32(backend, newV),
    },
    hyper,
  );
  return [newValue, newM, newV];
}

export const adamUpdateWasmConfig: tf.KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'wasm',
  kernelFunc: adamUpdateWasm,
};
