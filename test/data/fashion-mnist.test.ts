import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from '../../src/data/fashion-mnist';

function idx(dtype: number, shape: number[], values: number[]): Buffer {
  const h = Buffer.alloc(4 + 4 * shape.length);
  h[2] = dtype;
  h[3] = shape.length;
  shape.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([h, Buffer.from(values)]));
}

const installed = existsSync(path.join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
if (!installed) {
  process.stderr.write(`fashion-mnist.test: skipping the real-data test: ${DEBIAN_FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)\n`);
}

describe('loadFashionMnist', () => {
  it('reads a split from IDX files and scales pixels to [-1, 1]', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-fashion-'));
    const pixels: number[] = Array.from({ length: 2 * 784 }, (_, i) => (i < 784 ? 0 : 255));
    pixels[1] = 51; // 51 / 255 * 2 - 1 = -0.6
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), idx(0x08, [2, 28, 28], pixels));
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), idx(0x08, [2], [9, 3]));
    const d = await loadFashionMnist({ split: 'test', dir });
    expect(d.count).toBe(2);
    expect(Array.from(d.labels)).toEqual([9, 3]);
    expect(d.images[0]).toBe(-1);
    expect(d.images[1]).toBeCloseTo(-0.6, 6);
    expect(d.images[784]).toBe(1);
    expect((await loadFashionMnist({ split: 'test', dir, limit: 1 })).count).toBe(1);
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), idx(0x08, [3], [1, 2, 3]));
    await expect(loadFashionMnist({ split: 'test', dir })).rejects.toThrow('expected uint8 [2], got uint8 [3]');
    await expect(loadFashionMnist({ split: 'train', dir })).rejects.toThrow(/cannot read .*train-images-idx3-ubyte.gz.*apt-get install dataset-fashion-mnist/);
  });

  it.skipIf(!installed)('loads the 10,000 Debian test images, 1,000 per class', async () => {
    const d = await loadFashionMnist({ split: 'test' });
    expect(d.count).toBe(10000);
    expect(d.images.length).toBe(10000 * 784);
    const counts = new Array(10).fill(0);
    d.labels.forEach((l) => counts[l]++);
    expect(counts).toEqual(new Array(10).fill(1000));
    let min = Infinity;
    let max = -Infinity;
    for (const v of d.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([-1, 1]);
  });
});
