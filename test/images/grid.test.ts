import { describe, expect, it } from 'vitest';
import { gridPng } from '../../src/images/grid';
import { decodePng } from '../../src/images/png';

/** A 2x3 image filled with one value. */
const solid = (v: number): Float32Array => new Float32Array(6).fill(v);

describe('gridPng', () => {
  it('tiles images row by row with padding of the range minimum', () => {
    const images = [solid(1), solid(0.5), solid(0), solid(-0.5), solid(-1)];
    const png = decodePng(gridPng(images, { width: 3, height: 2, channels: 1, range: [-1, 1], columns: 2, padding: 1 }));
    // 2 columns, 3 rows: width 2*3 + 3*1, height 3*2 + 4*1
    expect(png.width).toBe(9);
    expect(png.height).toBe(10);
    const at = (x: number, y: number): number => png.data[y * png.width + x];
    expect(at(0, 0)).toBe(0); // padding
    expect(at(1, 1)).toBe(255); // image 0, top-left
    expect(at(3, 2)).toBe(255); // image 0, bottom-right
    expect(at(4, 1)).toBe(0); // padding between columns
    expect(at(5, 1)).toBe(191); // image 1
    expect(at(1, 4)).toBe(128); // image 2 (row 1)
    expect(at(5, 4)).toBe(64); // image 3
    expect(at(1, 7)).toBe(0); // image 4 (-1)
    expect(at(5, 7)).toBe(0); // empty slot
  });

  it('defaults to a square grid: 64 images make 8x8', () => {
    const images = Array.from({ length: 64 }, () => new Float32Array(28 * 28));
    const png = decodePng(gridPng(images, { width: 28, height: 28, channels: 1, range: [-1, 1] }));
    expect(png.width).toBe(8 * 28 + 9 * 2);
    expect(png.height).toBe(8 * 28 + 9 * 2);
  });

  it('rejects images of the wrong size', () => {
    expect(() => gridPng([new Float32Array(5)], { width: 3, height: 2, channels: 1, range: [0, 1] })).toThrow('image 0: expected 6 values, got 5');
    expect(() => gridPng([], { width: 3, height: 2, channels: 1, range: [0, 1] })).toThrow('expected at least one image, got 0');
  });
});
