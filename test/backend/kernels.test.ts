import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { registerCustomKernels } from '../../src/backend/kernels';
import { maxAbsDiff } from '../helpers/generator';
import { GANQL_WASM_KERNELS } from '../helpers/wasm-kernels';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const cases: Case[] = [
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 14, 14, 8], filter: [5, 5, 8, 16], strides: 2, pad: 'same' },
  { x: [3, 8, 7, 2], filter: [3, 3, 2, 5], strides: 2, pad: 'valid' },
  { x: [1, 10, 10, 4], filter: [4, 4, 4, 3], strides: 3, pad: 'same' },
  {
    x: [2, 7, 7, 3],
    filter: [3, 3, 3, 2],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  // One input channel: Conv2DBackpropInput's matMul + col2im route.
  { x: [2, 28, 28, 1], filter: [5, 5, 1, 8], strides: 2, pad: 'same' },
  // The DCGAN's own layers.
  { x: [4, 14, 14, 32], filter: [5, 5, 32, 64], strides: 2, pad: 'same' },
  // 8+ dx channels: Conv2DBackpropInput's phase convs, at stride 1, 2 'valid', 3, and unequal strides.
  { x: [2, 9, 9, 8], filter: [3, 3, 8, 5], strides: 1, pad: 'same' },
  { x: [2, 11, 10, 8], filter: [3, 3, 8, 4], strides: 2, pad: 'valid' },
  { x: [1, 10, 11, 12], filter: [4, 5, 12, 3], strides: 3, pad: 'same' },
  { x: [2, 9, 8, 8], filter: [5, 3, 8, 6], strides: [2, 1], pad: 'same' },
  // Padding beyond the kernel: phases whose ideal padding is negative.
  {
    x: [1, 6, 6, 8],
    filter: [3, 3, 8, 4],
    strides: 2,
    pad: [
      [0, 0],
      [3, 3],
      [1, 4],
      [0, 0],
    ],
  },
  {
    x: [1, 5, 5, 8],
    filter: [3, 3, 8, 4],
    strides: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 3],
      [0, 0],
    ],
  },
];

/** N(0, 0.25): activations and weights of the scale a trained net sees, so float32 rounding stays well below 1e-4. */
function seeded(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 0.25, 'float32', seed).dataSync() as Float32Array);
}

interface Grads {
  dx: Float32Array;
  dw: Float32Array;
  transposed: Float32Array;
}

/** Input and filter gradients of conv2d, and a conv2dTranspose forward, on the current backend. */
function convGrads(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array, outShape: number[]): Grads {
  const xt = tf.tensor4d(x, c.x);
  const wt = tf.tensor4d(w, c.filter);
  const dyt = tf.tensor4d(dy, outShape as [number, number, number, number]);
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), dyt)))([xt, wt]);
  const tr = tf.conv2dTranspose(dyt, wt, c.x, c.strides, c.pad);
  const out = { dx: gx.dataSync() as Float32Array, dw: gw.dataSync() as Float32Array, transposed: tr.dataSync() as Float32Array };
  tf.dispose([xt, wt, dyt, gx, gw, tr]);
  return out;
}

describe('wasm custom conv kernels vs the cpu backend', () => {
  const reference: Grads[] = [];
  const inputs: { x: Float32Array; w: Float32Array; dy: Float32Array; outShape: number[] }[] = [];

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => {
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros<tf.Rank.R4>(c.x), tf.zeros<tf.Rank.R4>(c.filter), c.strides, c.pad).shape);
      const input = { x: seeded(c.x, 10 + i), w: seeded(c.filter, 20 + i), dy: seeded(outShape, 30 + i), outShape };
      inputs.push(input);
      reference.push(convGrads(c, input.x, input.w, input.dy, outShape));
    });
    const info = await initBackend({ order: ['wasm'] });
    expect(info.customKernels).toEqual(GANQL_WASM_KERNELS);
  });

  cases.forEach((c, i) => {
    it(`matches on x ${JSON.stringify(c.x)} filter ${JSON.stringify(c.filter)} stride ${c.strides} pad ${JSON.stringify(c.pad)}`, () => {
      const before = tf.memory().numTensors;
      // A first run leaves the tensors the kernels derive from its filter cached; a second run frees those
      // (that filter is gone) and caches its own: the count of backend buffers must not grow per run.
      convGrads(c, inputs[i].x, inputs[i].w, inputs[i].dy, inputs[i].outShape);
      const dataIdsBefore = tf.backend().numDataIds();
      const got = convGrads(c, inputs[i].x, inputs[i].w, inputs[i].dy, inputs[i].outShape);
      const dw = maxAbsDiff(got.dw, reference[i].dw);
      const dx = maxAbsDiff(got.dx, reference[i].dx);
      const tr = maxAbsDiff(got.transposed, reference[i].transposed);
      console.log(
        `case ${i}: max abs diff Conv2DBackpropFilter ${dw.toExponential(2)}, Conv2DBackpropInput ${dx.toExponential(2)}, conv2dTranspose ${tr.toExponential(2)}`,
      );
      expect(dw).toBeLessThanOrEqual(1e-4);
      expect(dx).toBeLessThanOrEqual(1e-4);
      expect(tr).toBeLessThanOrEqual(1e-4);
      expect(tf.memory().numTensors).toBe(before);
      // The kernels' scratch buffers (made outside the engine's sight) are all freed.
      convGrads(c, inputs[i].x, inputs[i].w, inputs[i].dy, inputs[i].outShape);
      expect(tf.backend().numDataIds()).toBe(dataIdsBefore);
    });
  });

  it('registering twice keeps one working copy of each kernel', () => {
    expect(registerCustomKernels('wasm')).toEqual(GANQL_WASM_KERNELS);
    const c = cases[1];
    const got = convGrads(c, inputs[1].x, inputs[1].w, inputs[1].dy, inputs[1].outShape);
    expect(maxAbsDiff(got.dx, reference[1].dx)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(got.dw, reference[1].dw)).toBeLessThanOrEqual(1e-4);
  });

  it('registers nothing for other backends', () => {
    expect(registerCustomKernels('cpu')).toEqual([]);
  });

  it('rejects dilations other than 1 with a clear error', () => {
    const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    const x = tf.zeros([1, 5, 5, 1]);
    const dy = tf.zeros([1, 5, 5, 1]);
    expect(() =>
      kernel.kernelFunc({ inputs: { x, dy }, backend: tf.backend(), attrs: { strides: 1, pad: 'same', filterShape: [3, 3, 1, 1], dilations: [2, 2] } }),
    ).toThrow(/expected dilations of 1, got \[2,2\]/);
    tf.dispose([x, dy]);
  });
});
