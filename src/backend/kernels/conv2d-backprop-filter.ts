import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, assertNhwc, assertNoDilation, heapF32, requireInput, type WasmKernelArgs } from './wasm-tensors';

const KERNEL = 'Conv2DBackpropFilter';

/**
 * Fewest input channels for which the filter gradient runs as one XNNPACK conv rather than im2col +
 * matMul (measured in CPU ms at b=64: 14x14x32 -> 7x7x64 conv 14.8 vs 22-26; 28x28x1 -> 14x14x32 conv
 * 3.1 vs 1.8-2.9).
 */
const CONV_MIN_CHANNELS = 8;

/**
 * Filter gradient of a 2-D convolution for the wasm backend, which ships none (conv training
 * throws without it). Two routes, both on XNNPACK:
 * - many input channels: one conv in which the batch is the reduced channel axis (viaConv);
 * - few: im2col + one matMul. The patches are written transposed, [K*K*inC, M] with
 *   M = batch*outH*outW, so that dW = patchesT x dy[M, outC] runs through wasm's BatchMatMul
 *   without a transpose flag (its fast XNNPACK path), and [K*K*inC, outC] is already the
 *   [K, K, inC, outC] filter layout.
 */
export function conv2dBackpropFilterWasm(args: WasmKernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend);
  const x = requireInput(args.inputs, 'x', KERNEL);
  const dy = requireInput(args.inputs, 'dy', KERNEL);
  const attrs = args.attrs ?? {};
  assertNhwc(attrs, KERNEL);
  assertNoDilation(attrs, KERNEL);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  if (dy.shape.join() !== [batchSize, outHeight, outWidth, outChannels].join()) {
    throw new Error(`${KERNEL}: expected dy of shape [${[batchSize, outHeight, outWidth, outChannels]}], got [${dy.shape}]`);
  }
  if (inChannels >= CONV_MIN_CHANNELS) return viaConv(backend, x, dy, info);
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const m = batchSize * outHeight * outWidth;
  const n = filterHeight * filterWidth * inChannels;

  const patchesT = backend.makeOutput([n, m], 'float32');
  const p = heapF32(backend, patchesT);
  const xv = heapF32(backend, x);
  const rowStride = inWidth * inChannels;
  const imageStride = inHeight * rowStride;
  const colStep = strideWidth * inChannels;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      // Output columns whose input column lies inside the image, for this kw.
      let owFirst = 0;
      while (owFirst < outWidth && owFirst * strideWidth - padLeft + kw < 0) owFirst++;
      let owEnd = outWidth;
      while (owEnd > owFirst && (owEnd - 1) * strideWidth - padLeft + kw >= inWidth) owEnd--;
      for (let ic = 0; ic < inChannels; ic++) {
        let w = ((kh * filterWidth + kw) * inChannels + ic) * m;
        for (let b = 0; b < batchSize; b++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight - padTop + kh;
            if (ih < 0 || ih >= inHeight) {
              p.fill(0, w, w + outWidth);
              w += outWidth;
              continue;
            }
            let ow = 0;
            for (; ow < owFirst; ow++) p[w++] = 0;
            let r = b * imageStride + ih * rowStride + (owFirst * strideWidth - padLeft + kw) * inChannels + ic;
            for (; ow < owEnd; ow++, r += colStep) p[w++] = xv[r];
            for (; ow < outWidth; ow++) p[w++] = 0;
          }
        }
      }
    }
  }

  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  // dy [b, outH, outW, outC] is already [M, outC] in memory; the view shares its data.
  const dyMatrix: tf.TensorInfo = { dataId: dy.dataId, shape: [m, outChannels], dtype: 'float32' };
  const product = batchMatMul.kernelFunc({
    inputs: { a: patchesT, b: dyMatrix },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(patchesT.dataId);
  return { dataId: product.dataId, shape: filterShape, dtype: 'float32' };
}

/**
 * dW[kh, kw, ic, oc] = sum over (b, oh, ow) of x[b, s*oh + kh - pad, s*ow + kw - pad, ic] * dy[b, oh, ow, oc]
 * is a stride-1 conv of x' [ic, H, W, b] (the batch as channels) with the filter dy' [oh, ow, b, oc]
 * dilated by the stride: its output [ic, K, K, oc] is dW with the first axis moved third. The
 * transposes are copies of x, dy and dW, small beside the product.
 */
function viaConv(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const transpose = tf.getKernel('Transpose', 'wasm').kernelFunc;
  const conv2d = tf.getKernel('Conv2D', 'wasm').kernelFunc;
  const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } }) as tf.TensorInfo;
  const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }) as tf.TensorInfo;
  // Padding after: what makes the output exactly K x K (rows of x past the last tap are never read).
  const padBottom = filterHeight + strideHeight * (outHeight - 1) - inHeight - padInfo.top;
  const padRight = filterWidth + strideWidth * (outWidth - 1) - inWidth - padInfo.left;
  const crop = padBottom < 0 || padRight < 0;
  const product = conv2d({
    inputs: { x: xT, filter: dyT },
    backend,
    attrs: {
      strides: [1, 1],
      pad: [
        [0, 0],
        [padInfo.top, Math.max(0, padBottom)],
        [padInfo.left, Math.max(0, padRight)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [strideHeight, strideWidth],
      dimRoundingMode: undefined as unknown as string,
    },
  }) as tf.TensorInfo;
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  // Negative padding after (a 'valid' conv that leaves input rows unread): the conv saw them and made extra output rows; drop them.
  const kept = crop ? sliceTopLeft(backend, product, filterHeight, filterWidth) : product;
  if (crop) backend.disposeData(product.dataId);
  const dw = transpose({ inputs: { x: kept }, backend, attrs: { perm: [1, 2, 0, 3] } }) as tf.TensorInfo;
  backend.disposeData(kept.dataId);
  return dw;
}

/** t [n, h, w, c] -> its first rows x cols pixels, [n, rows, cols, c]. */
function sliceTopLeft(backend: BackendWasm, t: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo {
  const [n, , w, c] = t.shape;
  const h = t.shape[1];
  const out = backend.makeOutput([n, rows, cols, c], 'float32');
  const src = heapF32(backend, t);
  const dst = heapF32(backend, out);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rows; r++) {
      const from = (i * h + r) * w * c;
      dst.set(src.subarray(from, from + cols * c), (i * rows + r) * cols * c);
    }
  }
  return out;
}

export const conv2dBackpropFilterWasmConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm,
};
