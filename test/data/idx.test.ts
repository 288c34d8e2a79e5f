import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseIdx, readIdxFile } from '../../src/data/idx';

/** Header bytes: 0, 0, dtype, ndims, then each dimension as a big-endian uint32. */
function header(dtype: number, shape: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * shape.length);
  b[2] = dtype;
  b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  return b;
}

describe('parseIdx / readIdxFile', () => {
  it('reads a tiny uint8 [2, 2, 3] file, plain and gzipped', async () => {
    const bytes = Buffer.concat([header(0x08, [2, 2, 3]), Buffer.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255])]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-idx-'));
    writeFileSync(path.join(dir, 'tiny-idx3-ubyte'), bytes);
    writeFileSync(path.join(dir, 'tiny-idx3-ubyte.gz'), zlib.gzipSync(bytes));
    for (const name of ['tiny-idx3-ubyte', 'tiny-idx3-ubyte.gz']) {
      const idx = await readIdxFile(path.join(dir, name));
      expect(idx.dtype).toBe('uint8');
      expect(idx.shape).toEqual([2, 2, 3]);
      expect(idx.data).toBeInstanceOf(Uint8Array);
      expect(Array.from(idx.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });

  it('decodes big-endian int16, int32, float32 and float64 values', () => {
    const i16 = Buffer.alloc(4);
    i16.writeInt16BE(-2, 0);
    i16.writeInt16BE(300, 2);
    expect(Array.from(parseIdx(Buffer.concat([header(0x0b, [2]), i16])).data)).toEqual([-2, 300]);
    const i32 = Buffer.alloc(8);
    i32.writeInt32BE(-70000, 0);
    i32.writeInt32BE(60000, 4);
    expect(Array.from(parseIdx(Buffer.concat([header(0x0c, [1, 2]), i32])).data)).toEqual([-70000, 60000]);
    const f32 = Buffer.alloc(8);
    f32.writeFloatBE(1.5, 0);
    f32.writeFloatBE(-0.25, 4);
    const floats = parseIdx(Buffer.concat([header(0x0d, [2]), f32]));
    expect(floats.dtype).toBe('float32');
    expect(Array.from(floats.data)).toEqual([1.5, -0.25]);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleBE(Math.PI, 0);
    expect(Array.from(parseIdx(Buffer.concat([header(0x0e, [1]), f64])).data)).toEqual([Math.PI]);
    const s8 = parseIdx(Buffer.concat([header(0x09, [2]), Buffer.from([0xff, 0x7f])]));
    expect(Array.from(s8.data)).toEqual([-1, 127]);
  });

  it('rejects a bad magic, an unknown dtype and a size that does not match the header', () => {
    // 4 header bytes + 2 dims * 4 + 2 * 2 values = 16 expected; 3 values give 15.
    expect(() => parseIdx(Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]), 'x.idx')).toThrow('x.idx: expected the IDX magic to start with two zero bytes, got 0x01 0x00');
    expect(() => parseIdx(Buffer.from([0, 0, 0x0a, 1, 0, 0, 0, 0]))).toThrow(/expected an IDX dtype byte among .*, got 0x0a/);
    expect(() => parseIdx(Buffer.concat([header(0x08, [2, 2]), Buffer.from([1, 2, 3])]))).toThrow('expected 16 bytes for uint8 [2, 2], got 15');
    expect(() => parseIdx(Buffer.from([0, 0, 8]))).toThrow('expected at least a 4-byte IDX header, got 3 bytes');
  });

  it('names the file it cannot read', async () => {
    await expect(readIdxFile('/nonexistent/x-idx1-ubyte.gz')).rejects.toThrow('readIdxFile: cannot read /nonexistent/x-idx1-ubyte.gz');
  });
});
