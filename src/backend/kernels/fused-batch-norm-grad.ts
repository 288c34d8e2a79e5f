import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, heapF32, requireInput, type WasmKernelArgs } from './wasm-tensors';

/** All five gradients of FusedBatchNorm in one kernel: inputs x, dy, mean, variance and scale (optional). */
export const FUSED_BATCH_NORM_GRAD = 'GanqlFusedBatchNormGrad';

/**
 * For y = (x - mean) * rsqrt(variance + eps) * scale + offset with per-channel (last axis) mean,
 * variance, scale: one pass over x and dy gives dx = dy * scale * r, and per channel with
 * S1 = sum dy, S2 = sum dy * (x - mean): dmean = -scale * r * S1, dvariance = -scale * r^3 * S2 / 2,
 * dscale = r * S2, doffset = S1. tfjs's own gradient takes ~15 passes, one of them a Tile (wasm's is a
 * slow generic loop: 110 of a DCGAN step's 780 ms). Sums are accumulated in float64.
 * Outputs: dx (x's shape), then dmean, dvariance, dscale, doffset, each [C].
 */
export function fusedBatchNormGradWasm(args: WasmKernelArgs): tf.TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const x = requireInput(args.inputs, 'x', FUSED_BATCH_NORM_GRAD);
  const dy = requireInput(args.inputs, 'dy', FUSED_BATCH_NORM_GRAD);
  const meanInfo = requireInput(args.inputs, 'mean', FUSED_BATCH_NORM_GRAD);
  const varianceInfo = requireInput(args.inputs, 'variance', FUSED_BATCH_NORM_GRAD);
  const scaleInfo = args.inputs.scale;
  const epsilon = Number(args.attrs?.varianceEpsilon);
  if (!Number.isFinite(epsilon))
    throw new Error(`${FUSED_BATCH_NORM_GRAD}: expected a numeric varianceEpsilon, got ${JSON.stringify(args.attrs?.varianceEpsilon)}`);
  const channels = x.shape[x.shape.length - 1];
  if (dy.shape.join() !== x.shape.join()) throw new Error(`${FUSED_BATCH_NORM_GRAD}: expected dy of shape [${x.shape}], got [${dy.shape}]`);
  const size = x.shape.reduce((a, b) => a * b, 1);
  const dx = backend.makeOutput(x.shape, 'float32');
  const dMean = backend.makeOutput([channels], 'float32');
  const dVariance = backend.makeOutput([channels], 'float32');
  const dScale = backend.makeOutput([channels], 'float32');
  const dOffset = backend.makeOutput([channels], 'float32');
  // Views taken after the last allocation: heap growth detaches older ones.
  const xv = heapF32(backend, x);
  const dyv = heapF32(backend, dy);
  const mean = heapF32(backend, meanInfo);
  const variance = heapF32(backend, varianceInfo);
  const scale = scaleInfo === undefined ? null : heapF32(backend, scaleInfo);
  const out = heapF32(backend, dx);
  const r = new Float64Array(channels);
  const factor = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    r[c] = 1 / Math.sqrt(variance[c] + epsilon);
    factor[c] = (scale === null ? 1 : scale[c]) * r[c];
  }
  const s1 = new Float64Array(channels);
  const s2 = new Float64Array(channels);
  for (let i = 0; i < size; i += channels) {
    for (let c = 0; c < channels; c++) {
      const g = dyv[i + c];
      s1[c] += g;
      s2[c] += g * (xv[i + c] - mean[c]);
      out[i + c] = g * factor[c];
    }
  }
  const dm = heapF32(backend, dMean);
  const dv = heapF32(backend, dVariance);
  const ds = heapF32(backend, dScale);
  const db = heapF32(backend, dOffset);
  for (let c = 0; c < channels; c++) {
    dm[c] = -factor[c] * s1[c];
    dv[c] = -0.5 * factor[c] * r[c] * r[c] * s2[c];
    ds[c] = r[c] * s2[c];
    db[c] = s1[c];
  }
  return [dx, dMean, dVariance, dScale, dOffset];
}

export const fusedBatchNormGradWasmConfig: tf.KernelConfig = {
  kernelName: FUSED_BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: fusedBatchNormGradWasm,
};

/** A per-channel parameter [C]: the only layout tfjs's own gradient supports (it fails on [1, 1, 1, C]). */
function isPerChannel(t: tf.Tensor | undefined, channels: number): boolean {
  return t !== undefined && t.rank === 1 && t.shape[0] === channels;
}

/**
 * FusedBatchNorm's gradient through FUSED_BATCH_NORM_GRAD where the active backend has that
 * kernel and the parameters are per channel; tfjs's own gradient (`fallback`) everywhere else.
 */
export function makeFusedBatchNormGradConfig(fallback: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [x, mean, variance, scale] = saved;
      const g = dy as tf.Tensor;
      const channels = x.shape[x.shape.length - 1];
      const fast =
        tf.getKernel(FUSED_BATCH_NORM_GRAD, tf.getBackend()) !== undefined &&
        x.dtype === 'float32' &&
        isPerChannel(mean, channels) &&
        isPerChannel(variance, channels) &&
        (scale === undefined || scale === null || isPerChannel(scale, channels));
      if (!fast) return fallback.gradFunc(dy, saved, attrs);
      const inputs: tf.NamedTensorMap = { x, dy: g, mean, variance };
      if (scale !== undefined && scale !== null) inputs.scale = scale;
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel<tf.Tensor[]>(FUSED_BATCH_NORM_GRAD, inputs, attrs);
      return {
        x: () => dx,
        mean: () => dMean,
        variance: () => dVariance,
        scale: () => dScale,
        offset: () => dOffset,
      };
    },
  };
}
