import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/backend';
import { registerNativeKernels } from '../../../src/backend/kernels';
import { ADAM_UPDATE } from '../../../src/backend/kernels/adam-update';
import { seededPhiloxNormal } from '../../../src/backend/kernels/philox-normal';
import { philoxNormal } from '../../../src/backend/random/philox-normal';
import { loadNativeKernels, type NativeAddon } from '../../../src/backend/native/addon';
import { relativeDiff, seededNormal } from '../../helpers/compare';

/**
 * ganql's native kernels (native/, routed from wasm's BatchMatMul, _FusedMatMul, Conv2D, FusedConv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter, Sigmoid and Tanh) against the cpu backend, within 1e-5 of the largest
 * value (float32 sums of up to a few thousand terms, in another order): batch 1, odd sizes, strides
 * 2 and 3 with 'same', 'valid' and explicit padding, transposed operands, fused bias and activations,
 * with 1 and 2 threads. A counting addon shows each case ran natively rather than on the fallback.
 */
const TOLERANCE = 1e-5;

type Case = { name: string; calls: keyof NativeAddon; inputs: number[][]; run: (inputs: tf.Tensor[]) => tf.Tensor[] };

const conv = (stride: number | [number, number], pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]]) => ({
  stride,
  pad,
});

type Shape4 = [number, number, number, number];

const convCases: {
  x: Shape4;
  f: Shape4;
  stride: number | [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 2], ...conv(1, 'same') },
  { x: [3, 28, 28, 1], f: [5, 5, 1, 32], ...conv(2, 'same') },
  { x: [2, 14, 14, 32], f: [5, 5, 32, 64], ...conv(2, 'same') },
  { x: [2, 7, 9, 3], f: [4, 3, 3, 5], ...conv([2, 3], 'valid') },
  {
    x: [1, 6, 6, 4],
    f: [3, 3, 4, 3],
    ...conv(2, [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ]),
  },
];

const cases: Case[] = [
  ...[
    { a: [1, 1], b: [1, 1], ta: false, tb: false },
    { a: [100, 784], b: [784, 1000], ta: false, tb: false },
    { a: [784, 100], b: [784, 1000], ta: true, tb: false },
    { a: [100, 1000], b: [784, 1000], ta: false, tb: true },
    { a: [7, 3], b: [5, 7], ta: true, tb: true },
    { a: [3, 5, 4], b: [3, 4, 6], ta: false, tb: false },
    { a: [2, 5, 4], b: [4, 6], ta: false, tb: false },
    { a: [4, 5], b: [3, 6, 4], ta: true, tb: true },
  ].map(({ a, b, ta, tb }) => ({
    name: `matMul ${JSON.stringify(a)} x ${JSON.stringify(b)}${ta ? ' transposeA' : ''}${tb ? ' transposeB' : ''}`,
    calls: 'matmul' as const,
    inputs: [a, b],
    run: ([x, y]: tf.Tensor[]) => [tf.matMul(x, y, ta, tb)],
  })),
  ...(['relu', 'leakyrelu', 'sigmoid', 'linear', 'relu6'] as const).map((activation) => ({
    name: `fused matMul with bias and ${activation}`,
    calls: 'matmul' as const,
    inputs: [[33, 17], [17, 29], [29]],
    run: ([x, y, bias]: tf.Tensor[]) => [tf.fused.matMul({ a: x, b: y, bias, activation, leakyreluAlpha: 0.2 })],
  })),
  {
    name: 'fused matMul without bias, sigmoid',
    calls: 'biasActivate',
    inputs: [
      [9, 4],
      [4, 6],
    ],
    run: ([x, y]: tf.Tensor[]) => [tf.fused.matMul({ a: x, b: y, activation: 'sigmoid' })],
  },
  ...(['sigmoid', 'tanh'] as const).map((activation) => ({
    name: `${activation} [33, 17]`,
    calls: 'biasActivate' as const,
    inputs: [[33, 17]],
    run: ([x]: tf.Tensor[]) => [activation === 'sigmoid' ? tf.sigmoid(tf.mul(x, 4)) : tf.tanh(tf.mul(x, 4))],
  })),
  ...convCases.map(({ x, f, stride, pad }) => ({
    name: `conv2d ${JSON.stringify(x)} * ${JSON.stringify(f)} stride ${JSON.stringify(stride)} pad ${JSON.stringify(pad)}`,
    calls: 'conv2d' as const,
    inputs: [x, f],
    run: ([xt, ft]: tf.Tensor[]) => [tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, stride, pad)],
  })),
  {
    name: 'fused conv2d with bias and leakyrelu',
    calls: 'conv2d',
    inputs: [[2, 9, 9, 3], [3, 3, 3, 8], [8]],
    run: ([xt, ft, bias]: tf.Tensor[]) => [
      tf.fused.conv2d({ x: xt as tf.Tensor4D, filter: ft as tf.Tensor4D, strides: 2, pad: 'same', bias, activation: 'leakyrelu', leakyreluAlpha: 0.2 }),
    ],
  },
  // Both gradients of sum(conv2d(x, f) * r): with respect to x (Conv2DBackpropInput) and to f (Conv2DBackpropFilter).
  ...(['input', 'filter'] as const).flatMap((wrt) =>
    convCases.map(({ x, f, stride, pad }) => ({
      name: `conv2d ${wrt} gradient ${JSON.stringify(x)} * ${JSON.stringify(f)} stride ${JSON.stringify(stride)}`,
      calls: wrt === 'input' ? ('conv2dInputGrad' as const) : ('conv2dFilterGrad' as const),
      inputs: [x, f, tf.tidy(() => tf.conv2d(tf.zeros<tf.Rank.R4>(x), tf.zeros<tf.Rank.R4>(f), stride, pad).shape)],
      run: ([xt, ft, r]: tf.Tensor[]) => {
        const loss = (xv: tf.Tensor, fv: tf.Tensor) =>
          tf
            .conv2d(xv as tf.Tensor4D, fv as tf.Tensor4D, stride, pad)
            .mul(r)
            .sum();
        return [wrt === 'input' ? tf.grad((v: tf.Tensor) => loss(v, ft))(xt) : tf.grad((v: tf.Tensor) => loss(xt, v))(ft)];
      },
    })),
  ),
  {
    name: 'conv2dTranspose 7x7x64 -> 14x14x32, batch 2',
    calls: 'conv2dInputGrad',
    inputs: [
      [2, 7, 7, 64],
      [5, 5, 32, 64],
    ],
    run: ([xt, ft]: tf.Tensor[]) => [tf.conv2dTranspose(xt as tf.Tensor4D, ft as tf.Tensor4D, [2, 14, 14, 32], 2, 'same')],
  },
];

/** One Adam update of a 300,001-value variable (odd, and past the size that splits it over threads) at step 3. */
function adamStep(epsilonInside = false): Float32Array[] {
  const n = 300_001;
  const inputs = {
    value: tf.tensor1d(seededNormal([n], 901)),
    gradient: tf.tensor1d(seededNormal([n], 902)),
    m: tf.tensor1d(seededNormal([n], 903, 0, 0.1)),
    v: tf.tensor1d(seededNormal([n], 904, 0.5, 0.1).map(Math.abs)),
  };
  const attrs = { learningRate: 0.003, beta1: 0.5, beta2: 0.999, epsilon: 1e-8, accBeta1: 0.5 ** 3, accBeta2: 0.999 ** 3, epsilonInside };
  const outputs = tf.engine().runKernel<tf.Tensor[]>(ADAM_UPDATE, inputs, attrs);
  const values = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([...outputs, ...Object.values(inputs)]);
  return values;
}

function runCase(c: Case, data: Float32Array[]): Float32Array[] {
  const outputs = tf.tidy(() => c.run(c.inputs.map((shape, i) => tf.tensor(data[i], shape))));
  const values = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outputs);
  return values;
}

describe('native kernels vs the cpu backend', () => {
  const loaded = loadNativeKernels();
  const data = cases.map((c, i) => c.inputs.map((shape, j) => seededNormal(shape, 500 + 10 * i + j)));
  const reference: Float32Array[][] = [];
  const calls = new Map<string, number>();
  let adamReference: Float32Array[] = [];
  let adamInsideReference: Float32Array[] = [];
  let counting: NativeAddon | undefined;

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    cases.forEach((c, i) => reference.push(runCase(c, data[i])));
    await initBackend({ order: ['wasm'] });
    adamReference = adamStep();
    adamInsideReference = adamStep(true);
    if (!loaded.ok) return;
    const addon = loaded.addon;
    const count =
      <T extends unknown[]>(name: keyof NativeAddon, fn: (...args: T) => void) =>
      (...args: T) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        fn(...args);
      };
    counting = {
      matmul: count('matmul', addon.matmul),
      conv2d: count('conv2d', addon.conv2d),
      conv2dFilterGrad: count('conv2dFilterGrad', addon.conv2dFilterGrad),
      conv2dInputGrad: count('conv2dInputGrad', addon.conv2dInputGrad),
      adamUpdate: count('adamUpdate', addon.adamUpdate),
      philoxNormal: count('philoxNormal', addon.philoxNormal),
      biasActivate: count('biasActivate', addon.biasActivate),
      isa: () => addon.isa(),
    };
  });

  it('the addon was built by npm ci', () => {
    expect(loaded.ok ? loaded.addon.isa() : loaded.reason).toMatch(/^(avx512|avx2|generic)$/);
  });

  for (const threads of [1, 2]) {
    cases.forEach((c, i) => {
      it(`${c.name}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
        if (counting === undefined) throw new Error('the addon did not load');
        registerNativeKernels({ addon: counting, threads });
        const before = calls.get(c.calls) ?? 0;
        const tensorsBefore = tf.memory().numTensors;
        const outputs = runCase(c, data[i]);
        expect(tf.memory().numTensors).toBe(tensorsBefore);
        expect(calls.get(c.calls) ?? 0).toBeGreaterThan(before);
        outputs.forEach((out, j) => expect(relativeDiff(out, reference[i][j])).toBeLessThan(TOLERANCE));
      });
    });
  }

  for (const threads of [1, 2]) {
    it(`Adam's update gives the wasm kernel's floats exactly, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      if (counting === undefined) throw new Error('the addon did not load');
      registerNativeKernels({ addon: counting, threads });
      const before = calls.get('adamUpdate') ?? 0;
      const out = adamStep();
      const outInside = adamStep(true);
      expect(calls.get('adamUpdate') ?? 0).toBe(before + 2);
      out.forEach((values, i) => expect(values).toEqual(adamReference[i]));
      // Epsilon inside the root (the K+1 paper's Adam): also the same floats, and not those of epsilon outside.
      outInside.forEach((values, i) => expect(values).toEqual(adamInsideReference[i]));
      expect(outInside[0]).not.toEqual(out[0]);
    });
  }

  for (const threads of [1, 2]) {
    it(`seeded Gaussian noise gives the JS stream's floats, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      if (counting === undefined) throw new Error('the addon did not load');
      registerNativeKernels({ addon: counting, threads });
      const before = calls.get('philoxNormal') ?? 0;
      // An odd size past the threading threshold; a seed above 2^32 uses both key words.
      const seed = 2 ** 40 + 12345;
      const noise = seededPhiloxNormal([3, 33335], 0.5, 2, seed);
      const values = noise.dataSync() as Float32Array;
      noise.dispose();
      expect(calls.get('philoxNormal') ?? 0).toBe(before + 1);
      const js = philoxNormal(values.length, 0.5, 2, seed);
      // The same double-precision operations on both sides (no library calls): the same floats.
      expect(values).toEqual(js);
    });
  }

  it("Sigmoid and Tanh give Math.exp's and Math.tanh's values rounded to float, exactly, edge values included", () => {
    if (counting === undefined) throw new Error('the addon did not load');
    registerNativeKernels({ addon: counting, threads: 1 });
    const edges = [0, -0, 1e-30, -1e-30, 9.99e-5, 1e-4, -1e-4, 0.5, 19.99, 20, -20, 88, -88, -104, 700, -700, 800, -800, 3e38, -3e38, Infinity, -Infinity, NaN];
    const x = Float32Array.from([...edges, ...seededNormal([10_000], 77).map((v) => v * 8)]);
    for (const [op, math] of [
      [tf.sigmoid, (v: number) => 1 / (1 + Math.exp(-v))],
      [tf.tanh, Math.tanh],
    ] as const) {
      const before = calls.get('biasActivate') ?? 0;
      const t = tf.tensor1d(x);
      const y = op(t);
      const values = y.dataSync() as Float32Array;
      tf.dispose([t, y]);
      expect(calls.get('biasActivate') ?? 0).toBe(before + 1);
      expect(values).toEqual(Float32Array.from(x, math));
    }
  });

  it('initBackend reports the native kernels it routed', async () => {
    const info = await initBackend({ order: ['wasm'], nativeThreads: 2 });
    expect(info.native).toEqual({
      isa: loaded.ok ? loaded.addon.isa() : 'none',
      threads: 2,
      kernels: [
        'BatchMatMul',
        '_FusedMatMul',
        'Conv2D',
        'FusedConv2D',
        'Conv2DBackpropInput',
        'Conv2DBackpropFilter',
        'GanqlAdamUpdate',
        'GanqlPhiloxNormal',
        'Sigmoid',
        'Tanh',
      ],
    });
  });
});
