import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, assertNhwc, assertNoDilation, heapF32, requireInput, type WasmKernelArgs } from './wasm-tensors';

const KERNEL = 'Conv2DBackpropInput';

/**
 * Input gradient of a 2-D convolution (and the forward pass of conv2dTranspose) for wasm,
 * computed as a stride-1 'valid' conv2d (XNNPACK, ~8x faster than wasm's plain-loop kernel)
 * over dy upsampled with stride-1 zeros between pixels, padded so the output has the input's
 * size, with the filter flipped spatially and its in/out channels swapped.
 * Cases this does not pay off for (a single input channel) go to `native`.
 */
export function makeConv2dBackpropInputWasm(native: tf.KernelFunc | undefined): tf.KernelFunc {
  const kernel = (args: WasmKernelArgs): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend);
    const dy = requireInput(args.inputs, 'dy', KERNEL);
    const filter = requireInput(args.inputs, 'filter', KERNEL);
    const attrs = args.attrs ?? {};
    assertNhwc(attrs, KERNEL);
    assertNoDilation(attrs, KERNEL);
    const inputShape = attrs.inputShape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides as [number, number] | number,
      1,
      attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
      false,
      'channelsLast',
    );
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
    // One output channel: XNNPACK gains little and the upsampling costs more than it saves.
    if (inChannels === 1 && native !== undefined) return native(args) as tf.TensorInfo;

    const beforeH = filterHeight - 1 - info.padInfo.top;
    const beforeW = filterWidth - 1 - info.padInfo.left;
    const upH = inHeight + filterHeight - 1;
    const upW = inWidth + filterWidth - 1;
    const up = backend.makeOutput([batchSize, upH, upW, outChannels], 'float32');
    const flipped = backend.makeOutput([filterHeight, filterWidth, outChannels, inChannels], 'float32');
    const u = heapF32(backend, up);
    const f = heapF32(backend, flipped);
    const d = heapF32(backend, dy);
    const w = heapF32(backend, filter);

    u.fill(0);
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const uh = oh * strideHeight + beforeH;
        if (uh < 0 || uh >= upH) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const uw = ow * strideWidth + beforeW;
          if (uw < 0 || uw >= upW) continue;
          const src = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          const dst = ((b * upH + uh) * upW + uw) * outChannels;
          for (let c = 0; c < outChannels; c++) u[dst + c] = d[src + c];
        }
      }
    }
    // flipped[kh, kw, o, i] = filter[K-1-kh, K-1-kw, i, o]
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        const src = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * inChannels * outChannels;
        const dst = (kh * filterWidth + kw) * outChannels * inChannels;
        for (let i = 0; i < inChannels; i++) {
          for (let o = 0; o < outChannels; o++) f[dst + o * inChannels + i] = w[src + i * outChannels + o];
        }
      }
    }

    const conv2d = tf.getKernel('Conv2D', 'wasm');
    const out = conv2d.kernelFunc({
      inputs: { x: up, filter: flipped },
      backend,
      attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined as unknown as string },
    }) as tf.TensorInfo;
    backend.disposeData(up.dataId);
    backend.disposeData(flipped.dataId);
    return out;
  };
  return kernel as tf.KernelFunc;
}
