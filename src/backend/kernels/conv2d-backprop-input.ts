import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { DerivedFilters } from './derived-filters';
import { asWasmBackend, assertNhwc, assertNoDilation, heapF32, requireInput, type WasmKernelArgs } from './wasm-tensors';

const KERNEL = 'Conv2DBackpropInput';

/** Rows of dy multiplied per matMul in the col2im route: keeps the product (rows x K*K*inC) cache-sized. */
const ROWS_PER_CHUNK = 1024;

/**
 * Fewest dx channels for which the phase convs beat col2im. XNNPACK's wasm conv tiles compute 8
 * output channels at once, so a conv to 1-3 channels wastes most lanes, while col2im's scatter is
 * cheap there (measured at b=64, 14x14x32 -> 28x28xC: 1 ch 2.2 vs 6.3 ms, 3 ch 5.3 vs 6.8, 8 ch 13.2 vs 7.7).
 */
const PHASE_MIN_CHANNELS = 8;

/**
 * Input gradient of a 2-D convolution (and the forward pass of conv2dTranspose) for wasm, whose own
 * kernel is a plain loop (~2-4 GFLOP/s). Two routes, both on XNNPACK, both computing only products
 * that count (the zero-upsampling trick multiplies 3 of every 4 inputs by zero at stride 2):
 * - phase convs (dx with 8+ channels): s*s stride-1 convs of dy, one per output phase, interleaved;
 * - matMul + col2im (fewer channels): dy x filter^T, each product row added into the K x K window
 *   of dx it feeds.
 * The filter-derived weights (flipped sub-kernels, filter^T) are kept while the filter lives (see
 * DerivedFilters), so serving a model re-derives and re-packs nothing.
 */
export function makeConv2dBackpropInputWasm(): tf.KernelFunc {
  const derived = new DerivedFilters();
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
    if (info.inChannels < PHASE_MIN_CHANNELS) return viaMatMulCol2im(backend, dy, filter, info, derived);
    return viaPhaseConvs(backend, dy, filter, info, phasesOf(info), derived);
  };
  return kernel;
}

/** One output phase of a strided transposed conv: the dx rows ih0, ih0+s, ... and columns iw0, iw0+s, ... */
interface Phase {
  ih0: number;
  iw0: number;
  rows: number;
  cols: number;
  /** Taps of the sub-kernel: filter rows kh0, kh0+s, ... and columns kw0, kw0+s, ... */
  kh0: number;
  kw0: number;
  tapsH: number;
  tapsW: number;
  pad: [[number, number], [number, number], [number, number], [number, number]];
  /** Leading rows/columns of the phase conv's output to skip (where the ideal padding is negative). */
  skipTop: number;
  skipLeft: number;
  /** Shape of the phase conv's output, of which rows x cols from (skipTop, skipLeft) are dx's. */
  partRows: number;
  partCols: number;
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/**
 * Splits a transposed conv of stride s into s*s stride-1 convs over dy (sub-pixel decomposition):
 * dx pixels with (ih + padTop) % s == ph only see filter rows kh = ph, ph+s, ..., so each phase is a
 * small 'valid' conv of padded dy with those taps, flipped. Phases without taps or pixels are left out.
 */
function phasesOf(info: tf.backend_util.Conv2DInfo): Phase[] {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight: sh, strideWidth: sw } = info;
  const axis = (p: number, pad: number, s: number, k: number, size: number, outSize: number) => {
    const taps = Math.ceil((k - p) / s);
    const first = mod(p - pad, s);
    const count = first < size ? Math.ceil((size - first) / s) : 0;
    // dx index first + s*r reads dy rows q0 + r - (taps-1) .. q0 + r.
    const q0 = (first + pad - p) / s;
    const before = taps - 1 - q0;
    const after = count - outSize - before + taps - 1;
    // Negative padding is not a conv: pad by 0 instead and skip (or ignore) the extra output rows.
    const padBefore = Math.max(0, before);
    const padAfter = Math.max(0, after);
    return { taps, first, count, padBefore, padAfter, skip: padBefore - before, part: outSize + padBefore + padAfter - taps + 1 };
  };
  const phases: Phase[] = [];
  for (let ph = 0; ph < sh; ph++) {
    for (let pw = 0; pw < sw; pw++) {
      const h = axis(ph, info.padInfo.top, sh, filterHeight, inHeight, outHeight);
      const w = axis(pw, info.padInfo.left, sw, filterWidth, inWidth, outWidth);
      // No taps or no pixels: these dx pixels stay zero.
      if (h.taps <= 0 || w.taps <= 0 || h.count === 0 || w.count === 0) continue;
      phases.push({
        ih0: h.first,
        iw0: w.first,
        rows: h.count,
        cols: w.count,
        kh0: ph,
        kw0: pw,
        tapsH: h.taps,
        tapsW: w.taps,
        pad: [
          [0, 0],
          [h.padBefore, h.padAfter],
          [w.padBefore, w.padAfter],
          [0, 0],
        ],
        skipTop: h.skip,
        skipLeft: w.skip,
        partRows: h.part,
        partCols: w.part,
      });
    }
  }
  return phases;
}

/** sub[a, b, o, i] = filter[kh0 + s*(tapsH-1-a), kw0 + s*(tapsW-1-b), i, o]: the phase's taps, flipped, in/out swapped. */
function subKernel(backend: BackendWasm, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, phase: Phase): tf.TensorInfo {
  const { inChannels, outChannels, filterWidth, strideHeight: sh, strideWidth: sw } = info;
  const sub = backend.makeOutput([phase.tapsH, phase.tapsW, outChannels, inChannels], 'float32');
  const g = heapF32(backend, sub);
  const w = heapF32(backend, filter);
  for (let a = 0; a < phase.tapsH; a++) {
    const kh = phase.kh0 + sh * (phase.tapsH - 1 - a);
    for (let b = 0; b < phase.tapsW; b++) {
      const kw = phase.kw0 + sw * (phase.tapsW - 1 - b);
      const src = (kh * filterWidth + kw) * inChannels * outChannels;
      const dst = (a * phase.tapsW + b) * outChannels * inChannels;
      for (let i = 0; i < inChannels; i++) {
        for (let o = 0; o < outChannels; o++) g[dst + o * inChannels + i] = w[src + i * outChannels + o];
      }
    }
  }
  return sub;
}

/** dx as s*s stride-1 convs of dy (XNNPACK), one per output phase, interleaved into dx. */
function viaPhaseConvs(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  phases: Phase[],
  derived: DerivedFilters,
): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, strideHeight: sh, strideWidth: sw } = info;
  const conv2d = tf.getKernel('Conv2D', 'wasm');
  // Stride 1 with a conv output of exactly dx's shape: that output is dx, no interleaving.
  const [only] = phases;
  const direct =
    phases.length === 1 && sh === 1 && sw === 1 && only.skipTop === 0 && only.skipLeft === 0 && only.partRows === inHeight && only.partCols === inWidth;
  const dx = direct ? undefined : backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  if (dx !== undefined && phases.length < sh * sw) heapF32(backend, dx).fill(0);
  for (const phase of phases) {
    // The taps of a phase depend on the strides and the phase only, not on the pads or sizes.
    const [sub] = derived.get(backend, filter, `sub ${sh}x${sw} ${phase.kh0},${phase.kw0}`, () => [subKernel(backend, filter, info, phase)]);
    const part = conv2d.kernelFunc({
      inputs: { x: dy, filter: sub },
      backend,
      attrs: { strides: [1, 1], pad: phase.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined as unknown as string },
    }) as tf.TensorInfo;
    if (dx === undefined) return part;
    // Views taken after the last allocation: heap growth detaches older ones.
    const values = heapF32(backend, part);
    const out = heapF32(backend, dx);
    for (let n = 0; n < batchSize; n++) {
      for (let r = 0; r < phase.rows; r++) {
        let src = ((n * phase.partRows + phase.skipTop + r) * phase.partCols + phase.skipLeft) * inChannels;
        let dst = ((n * inHeight + phase.ih0 + r * sh) * inWidth + phase.iw0) * inChannels;
        for (let c = 0; c < phase.cols; c++, dst += sw * inChannels) {
          for (let i = 0; i < inChannels; i++) out[dst + i] = values[src++];
        }
      }
    }
    backend.disposeData(part.dataId);
  }
  // `direct` returned inside the loop; dx is defined whenever the loop can end.
  if (dx === undefined) throw new Error(`${KERNEL}: expected the stride-1 phase to return, got no phase`);
  return dx;
}

/**
 * For each dy pixel (b, oh, ow), the row P = dy[b, oh, ow, :] x W, W [outC, K*K*inC], holds its
 * contribution to dx at (oh*s - padTop + kh, ow*s - padLeft + kw, ic); col2im adds it there.
 */
function viaMatMulCol2im(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  derived: DerivedFilters,
): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const window = filterHeight * filterWidth * inChannels;
  const pixelsPerImage = outHeight * outWidth;
  // Whole images per chunk, so col2im of a chunk touches only its own images.
  const imagesPerChunk = Math.max(1, Math.min(batchSize, Math.floor(ROWS_PER_CHUNK / pixelsPerImage)));

  // wT [outC, K*K*inC]: filter [K, K, inC, outC] read as [K*K*inC, outC], transposed, so the matMul
  // takes no transpose flag (wasm's XNNPACK path has none).
  const [wT] = derived.get(backend, filter, 'transposed', () => {
    const t = backend.makeOutput([1, outChannels, window], 'float32');
    const values = heapF32(backend, t);
    const w = heapF32(backend, filter);
    for (let r = 0; r < window; r++) {
      for (let o = 0; o < outChannels; o++) values[o * window + r] = w[r * outChannels + o];
    }
    return [t];
  });
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  const chunkIn = backend.makeOutput([1, imagesPerChunk * pixelsPerImage, outChannels], 'float32');
  heapF32(backend, dx).fill(0);

  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const rowStride = inWidth * inChannels;
  for (let b0 = 0; b0 < batchSize; b0 += imagesPerChunk) {
    const images = Math.min(imagesPerChunk, batchSize - b0);
    const rows = images * pixelsPerImage;
    // A last, shorter chunk reads the first `rows` rows through a view of the same buffer.
    const a: tf.TensorInfo = rows === imagesPerChunk * pixelsPerImage ? chunkIn : { dataId: chunkIn.dataId, shape: [1, rows, outChannels], dtype: 'float32' };
    heapF32(backend, chunkIn).set(heapF32(backend, dy).subarray(b0 * pixelsPerImage * outChannels, (b0 * pixelsPerImage + rows) * outChannels));
    const product = batchMatMul.kernelFunc({ inputs: { a, b: wT }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    // Views taken after the last allocation: heap growth detaches older ones.
    const p = heapF32(backend, product);
    const out = heapF32(backend, dx);
    let row = 0;
    for (let b = b0; b < b0 + images; b++) {
      const image = b * inHeight * rowStride;
      for (let oh = 0; oh < outHeight; oh++) {
        for (let ow = 0; ow < outWidth; ow++, row += window) {
          for (let kh = 0; kh < filterHeight; kh++) {
            const ih = oh * strideHeight - padTop + kh;
            if (ih < 0 || ih >= inHeight) continue;
            const kwFirst = Math.max(0, padLeft - ow * strideWidth);
            const kwEnd = Math.min(filterWidth, inWidth + padLeft - ow * strideWidth);
            let src = row + (kh * filterWidth + kwFirst) * inChannels;
            let dst = image + ih * rowStride + (ow * strideWidth - padLeft + kwFirst) * inChannels;
            // Consecutive kw are consecutive dx pixels: the window row is one contiguous run.
            const end = src + (kwEnd - kwFirst) * inChannels;
            for (; src < end; src++, dst++) out[dst] += p[src];
          }
        }
      }
    }
    backend.disposeData(product.dataId);
  }
  backend.disposeData(chunkIn.dataId);
  return dx;
}
