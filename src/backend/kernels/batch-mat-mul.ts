import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, type WasmKernelArgs } from './wasm-tensors';

/**
 * BatchMatMul and _FusedMatMul for wasm with their transpose flags applied up front: wasm's own
 * kernels run a flagged product in a plain loop (~1.5 GFLOP/s: a dense layer's weight gradient,
 * x^T dy, took 28 ms at 64x100x3136) and an unflagged one on XNNPACK (3 ms). Transposing an
 * operand costs one copy of it, far less than the product.
 */
export function makeUnflaggedMatMulWasm(kernelName: 'BatchMatMul' | '_FusedMatMul', native: tf.KernelFunc): tf.KernelConfig {
  const kernel = (args: WasmKernelArgs): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend);
    const attrs = args.attrs ?? {};
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined) throw new Error(`${kernelName}: expected inputs "a" and "b", got ${Object.keys(args.inputs).join(', ')}`);
    const flagA = attrs.transposeA === true;
    const flagB = attrs.transposeB === true;
    if (!flagA && !flagB) return native(args) as tf.TensorInfo;
    const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
    /** The operand with its last two axes swapped, in memory. */
    const swapped = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      perm[perm.length - 2] = perm.length - 1;
      perm[perm.length - 1] = perm.length - 2;
      return transpose({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
    };
    const a2 = flagA ? swapped(a) : a;
    const b2 = flagB ? swapped(b) : b;
    try {
      return native({ inputs: { ...args.inputs, a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as tf.TensorInfo;
    } finally {
      if (flagA) backend.disposeData(a2.dataId);
      if (flagB) backend.disposeData(b2.dataId);
    }
  };
  return { kernelName, backendName: 'wasm', kernelFunc: kernel };
}
