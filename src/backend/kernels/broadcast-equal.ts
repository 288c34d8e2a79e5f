import type * as tf from '@tensorflow/tfjs';
import { asWasmBackend, heapF32, type WasmKernelArgs } from './wasm-tensors';

/** Ranks the loop below covers (shapes are padded to it); higher ones go to wasm's own kernel. */
const MAX_RANK = 4;

/** `shape` with leading 1s up to MAX_RANK. */
const padded = (shape: number[]): number[] => [...new Array<number>(MAX_RANK - shape.length).fill(1), ...shape];

/** Strides of a MAX_RANK shape for a broadcast to `out`: 0 along axes it repeats. */
function broadcastStrides(shape: number[], out: number[]): number[] {
  const strides = new Array<number>(MAX_RANK).fill(0);
  let stride = 1;
  for (let i = MAX_RANK - 1; i >= 0; i--) {
    strides[i] = shape[i] === 1 && out[i] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * Equal for wasm with broadcasting done by strides: wasm's own broadcasts element by element through a
 * generic index path (~9 ms for the [100, 5, 240] vs [100, 1, 240] mask of a maxout layer's gradient,
 * which tfjs's Max gradient builds); equal shapes stay on wasm's kernel.
 */
export function makeBroadcastEqualWasm(fallback: tf.KernelFunc): tf.KernelConfig {
  const kernel = (args: WasmKernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const rank = Math.max(a.shape.length, b.shape.length);
    if (a.shape.join() === b.shape.join() || rank > MAX_RANK) return fallback(args);
    const pa = padded(a.shape);
    const pb = padded(b.shape);
    const out: number[] = [];
    for (let i = 0; i < MAX_RANK; i++) {
      if (pa[i] !== pb[i] && pa[i] !== 1 && pb[i] !== 1) return fallback(args);
      out.push(Math.max(pa[i], pb[i]));
    }
    const backend = asWasmBackend(args.backend);
    const result = backend.makeOutput(out.slice(MAX_RANK - rank), 'bool');
    const av = heapF32(backend, a);
    const bv = heapF32(backend, b);
    const rv = backend.typedArrayFromHeap(result) as Uint8Array;
    const [sa0, sa1, sa2, sa3] = broadcastStrides(pa, out);
    const [sb0, sb1, sb2, sb3] = broadcastStrides(pb, out);
    const [n0, n1, n2, n3] = out;
    let r = 0;
    for (let i0 = 0; i0 < n0; i0++) {
      for (let i1 = 0; i1 < n1; i1++) {
        for (let i2 = 0; i2 < n2; i2++) {
          let ia = i0 * sa0 + i1 * sa1 + i2 * sa2;
          let ib = i0 * sb0 + i1 * sb1 + i2 * sb2;
          for (let i3 = 0; i3 < n3; i3++, ia += sa3, ib += sb3) rv[r++] = av[ia] === bv[ib] ? 1 : 0;
        }
      }
    }
    return result;
  };
  return { kernelName: 'Equal', backendName: 'wasm', kernelFunc: kernel };
}
