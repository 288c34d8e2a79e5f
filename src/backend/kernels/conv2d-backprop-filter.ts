import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, assertNhwc, assertNoDilation, heapF32, requireInput, type WasmKernelArgs } from './wasm-tensors';

const KERNEL = 'Conv2DBackpropFilter';

/**
 * Filter gradient of a 2-D convolution for the wasm backend, which ships none (conv training
 * throws without it). im2col + one matMul: the patches are written transposed, [K*K*inC, M] with
 * M = batch*outH*outW, so that dW = patchesT x dy[M, outC] runs through wasm's BatchMatMul
 * without a transpose flag (its fast XNNPACK path), and [K*K*inC, outC] is already the
 * [K, K, inC, outC] filter layout.
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

export const conv2dBackpropFilterWasmConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm,
};
