/**
 * ganql's native CPU kernels (native/: blocked GEMM and NHWC convolutions in C++, AVX-512, AVX2 or
 * plain builds picked at load), compiled by `npm ci` with node-gyp. They are optional: when the build
 * did not run or failed, loadNativeKernels returns the reason and training runs on wasm alone.
 */

/** An NHWC convolution's sizes, in the order the addon reads them. */
export interface ConvShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** The addon's functions: every array is read or written in place (views on the wasm heap). */
export interface NativeAddon {
  /** c (m x n) = op(a) op(b), row-major; op transposes when its flag is set. */
  matmul(
    this: void,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    threads: number,
  ): void;
  /** y = x * w (a 'cross-correlation', as tfjs's conv2d), w as filterHeight x filterWidth x inChannels x outChannels. */
  conv2d(this: void, x: Float32Array, w: Float32Array, y: Float32Array, shape: Int32Array, threads: number): void;
  /** dw = the gradient of the filter given x and dy. */
  conv2dFilterGrad(this: void, x: Float32Array, dy: Float32Array, dw: Float32Array, shape: Int32Array, threads: number): void;
  /** dx = the gradient of the input given dy and w (also conv2dTranspose's forward pass). */
  conv2dInputGrad(this: void, dy: Float32Array, w: Float32Array, dx: Float32Array, shape: Int32Array, threads: number): void;
  /**
   * One Adam step of one variable into the out arrays, in double precision like the wasm kernel;
   * hyper = [learningRate, beta1, beta2, epsilon, 1 / (1 - beta1^t), 1 / (1 - beta2^t), epsilon inside the root (1) or not (0)].
   */
  adamUpdate(
    this: void,
    value: Float32Array,
    gradient: Float32Array,
    m: Float32Array,
    v: Float32Array,
    outValue: Float32Array,
    outM: Float32Array,
    outV: Float32Array,
    hyper: Float64Array,
    threads: number,
  ): void;
  /** out = mean + std * N(0, 1) noise, the Philox stream of src/backend/random/philox-normal.ts under key (k0, k1). */
  philoxNormal(this: void, out: Float32Array, mean: number, std: number, k0: number, k1: number, threads: number): void;
  /**
   * out = f(x + bias), the bias repeated along rows (none when empty, one value for all when of
   * length 1); f by kind: 0 linear, 1 relu, 2 relu6, 3 leakyrelu (alpha), 4 sigmoid, 5 tanh. The sum in
   * float, f in double rounded once to float, as JS would compute them; out may be x.
   */
  biasActivate(this: void, x: Float32Array, out: Float32Array, bias: Float32Array, kind: number, alpha: number): void;
  /** The instruction set of the build in use: avx512, avx2 or generic. */
  isa(this: void): string;
}

export type NativeLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

function isAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['matmul', 'conv2d', 'conv2dFilterGrad', 'conv2dInputGrad', 'adamUpdate', 'philoxNormal', 'biasActivate', 'isa'].every(
    (name) => typeof v[name] === 'function',
  );
}

/** Loads the addon; never throws. */
export function loadNativeKernels(): NativeLoad {
  try {
    // An optional dependency built from native/ at install: a plain require keeps it out of the type graph.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native package
    const addon: unknown = require('@ganql/native');
    if (!isAddon(addon)) return { ok: false, reason: '@ganql/native lacks the expected functions' };
    return { ok: true, addon };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `@ganql/native is not built (${message.split('\n')[0]})` };
  }
}

/** The shape as the Int32Array the addon reads. */
export function convShapeArray(s: ConvShape): Int32Array {
  return Int32Array.of(
    s.batch,
    s.inHeight,
    s.inWidth,
    s.inChannels,
    s.filterHeight,
    s.filterWidth,
    s.outChannels,
    s.outHeight,
    s.outWidth,
    s.strideHeight,
    s.strideWidth,
    s.padTop,
    s.padLeft,
  );
}
