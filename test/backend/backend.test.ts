import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { GANQL_WASM_KERNELS } from '../helpers/wasm-kernels';

describe('initBackend', () => {
  it('skips the native backends that are not installed and logs why', async () => {
    const lines: string[] = [];
    const info = await initBackend({ log: (m) => lines.push(m) });
    expect(info).toEqual({
      name: 'wasm',
      tfBackend: 'wasm',
      customKernels: GANQL_WASM_KERNELS,
    });
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/tfjs backend: wasm/);
    expect(lines[0]).toMatch(/skipped tensorflow-gpu: .*tfjs-node-gpu/);
  });

  it('can be called again, and switch to cpu, which gets no custom kernels', async () => {
    // 'same' transposed conv, 2x2 -> 4x4, stride 2, 3x3 kernel: 5 taps land per axis, 2 channels in.
    const transposedSum = (): number =>
      tf.tidy(
        () =>
          tf
            .conv2dTranspose(tf.ones<tf.Rank.R4>([1, 2, 2, 2]), tf.ones<tf.Rank.R4>([3, 3, 1, 2]), [1, 4, 4, 1], 2, 'same')
            .sum()
            .dataSync()[0],
      );
    const cpu = await initBackend({ order: ['cpu'] });
    expect(cpu).toEqual({ name: 'cpu', tfBackend: 'cpu', customKernels: [] });
    expect(transposedSum()).toBe(5 * 5 * 2);
    const wasm = await initBackend({ order: ['wasm', 'cpu'] });
    expect(wasm.name).toBe('wasm');
    // Ops work after a second initialisation, through the custom kernel.
    expect(transposedSum()).toBe(5 * 5 * 2);
  });

  it('rejects unknown names and empty orders', async () => {
    await expect(initBackend({ order: ['webgpu' as never] })).rejects.toThrow(/Expected a backend name among .*, got "webgpu"/);
    await expect(initBackend({ order: [] })).rejects.toThrow(/Expected a non-empty backend order/);
  });

  it('fails with every reason when nothing loads', async () => {
    await expect(initBackend({ order: ['tensorflow'] })).rejects.toThrow(/No tfjs backend could be initialised: tensorflow: /);
  });
});
