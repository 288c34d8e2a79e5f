import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { convShapeArray, loadNativeKernels, type ConvShape } from '../../src/backend/native/addon';

/**
 * Each instruction-set build of the native addon (AVX-512, AVX2, plain), forced with GANQL_NATIVE_ISA
 * in a child process, against plain loops here: products with edge tiles (sizes that are no multiple
 * of the register tile) and transposes, and a strided, padded convolution with both gradients.
 * A build the CPU lacks is refused by the addon (it picks the widest it has) and skipped by name.
 */
const loaded = loadNativeKernels();

interface Inputs {
  a: number[];
  b: number[];
  x: number[];
  w: number[];
  dy: number[];
}

const M = 13;
const N = 37;
const K = 21;
const conv: ConvShape = {
  batch: 2,
  inHeight: 7,
  inWidth: 6,
  inChannels: 3,
  filterHeight: 3,
  filterWidth: 3,
  outChannels: 5,
  outHeight: 4,
  outWidth: 3,
  strideHeight: 2,
  strideWidth: 2,
  padTop: 1,
  padLeft: 1,
};

function seeded(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

const inputs: Inputs = {
  a: seeded(M * K, 1),
  b: seeded(K * N, 2),
  x: seeded(conv.batch * conv.inHeight * conv.inWidth * conv.inChannels, 3),
  w: seeded(conv.filterHeight * conv.filterWidth * conv.inChannels * conv.outChannels, 4),
  dy: seeded(conv.batch * conv.outHeight * conv.outWidth * conv.outChannels, 5),
};

/** Runs in the child: every product and convolution of the addon on the inputs, as plain arrays. */
const CHILD = `
const addon = require('@ganql/native');
const i = JSON.parse(process.argv[1]);
const f = (v) => Float32Array.from(v);
const out = { isa: addon.isa() };
for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
  const c = new Float32Array(${M * N});
  addon.matmul(f(i.a), f(i.b), c, ${M}, ${N}, ${K}, ta, tb, 2);
  out['matmul' + ta + tb] = Array.from(c);
}
const shape = Int32Array.from(i.shape);
const y = new Float32Array(i.dy.length);
addon.conv2d(f(i.x), f(i.w), y, shape, 2);
const dw = new Float32Array(i.w.length);
addon.conv2dFilterGrad(f(i.x), f(i.dy), dw, shape, 2);
const dx = new Float32Array(i.x.length);
addon.conv2dInputGrad(f(i.dy), f(i.w), dx, shape, 2);
Object.assign(out, { y: Array.from(y), dw: Array.from(dw), dx: Array.from(dx) });
console.log(JSON.stringify(out));
`;

function runChild(isa: string): Record<string, unknown> {
  const text = execFileSync(process.execPath, ['-e', CHILD, JSON.stringify({ ...inputs, shape: Array.from(convShapeArray(conv)) })], {
    env: { ...process.env, GANQL_NATIVE_ISA: isa },
    encoding: 'utf8',
  });
  return JSON.parse(text) as Record<string, unknown>;
}

function matmul(ta: boolean, tb: boolean): number[] {
  const c: number[] = [];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += (ta ? inputs.a[k * M + i] : inputs.a[i * K + k]) * (tb ? inputs.b[j * K + k] : inputs.b[k * N + j]);
      c.push(sum);
    }
  }
  return c;
}

/** Visits every (output position, tap) pair of the convolution with the flat indices of x, w and y. */
function eachTap(visit: (xi: number, wi: number, yi: number) => void): void {
  const s = conv;
  for (let n = 0; n < s.batch; n++)
    for (let oy = 0; oy < s.outHeight; oy++)
      for (let ox = 0; ox < s.outWidth; ox++)
        for (let ky = 0; ky < s.filterHeight; ky++)
          for (let kx = 0; kx < s.filterWidth; kx++) {
            const iy = oy * s.strideHeight - s.padTop + ky;
            const ix = ox * s.strideWidth - s.padLeft + kx;
            if (iy < 0 || iy >= s.inHeight || ix < 0 || ix >= s.inWidth) continue;
            for (let ci = 0; ci < s.inChannels; ci++)
              for (let co = 0; co < s.outChannels; co++) {
                const xi = ((n * s.inHeight + iy) * s.inWidth + ix) * s.inChannels + ci;
                const wi = ((ky * s.filterWidth + kx) * s.inChannels + ci) * s.outChannels + co;
                const yi = ((n * s.outHeight + oy) * s.outWidth + ox) * s.outChannels + co;
                visit(xi, wi, yi);
              }
          }
}

function maxDiff(got: unknown, want: number[]): number {
  if (!Array.isArray(got) || got.length !== want.length) throw new Error(`Expected ${want.length} values, got ${JSON.stringify(got)?.slice(0, 80)}`);
  return want.reduce((m, v, i) => Math.max(m, Math.abs((got[i] as number) - v)), 0);
}

describe('native addon builds vs plain loops', () => {
  const y = new Array<number>(inputs.dy.length).fill(0);
  const dw = new Array<number>(inputs.w.length).fill(0);
  const dx = new Array<number>(inputs.x.length).fill(0);
  eachTap((xi, wi, yi) => {
    y[yi] += inputs.x[xi] * inputs.w[wi];
    dw[wi] += inputs.x[xi] * inputs.dy[yi];
    dx[xi] += inputs.w[wi] * inputs.dy[yi];
  });

  for (const isa of ['avx512', 'avx2', 'generic']) {
    it(`${isa}: products and convolutions within 1e-5`, () => {
      if (!loaded.ok) throw new Error(loaded.reason);
      const out = runChild(isa);
      if (out.isa !== isa) {
        // The CPU lacks the set: the addon fell back to a narrower one, tested under its own name.
        expect(['avx2', 'generic']).toContain(out.isa);
        return;
      }
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        expect(maxDiff(out[`matmul${ta}${tb}`], matmul(ta, tb)), `matmul ${ta} ${tb}`).toBeLessThan(1e-5);
      }
      expect(maxDiff(out.y, y), 'conv2d').toBeLessThan(1e-5);
      expect(maxDiff(out.dw, dw), 'filter gradient').toBeLessThan(1e-5);
      expect(maxDiff(out.dx, dx), 'input gradient').toBeLessThan(1e-5);
    });
  }
});
