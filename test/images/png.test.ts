import { describe, expect, it } from 'vitest';
import { decodePng, encodePng, pngDataUrl, quantize } from '../../src/images/png';

describe('encodePng / decodePng', () => {
  it('quantises round((v - min) / (max - min) * 255) with clamping', () => {
    expect(quantize(-1, -1, 1)).toBe(0);
    expect(quantize(0, -1, 1)).toBe(128); // 127.5 rounds up
    expect(quantize(1, -1, 1)).toBe(255);
    expect(quantize(0.5, -1, 1)).toBe(191); // 191.25
    expect(quantize(3, -1, 1)).toBe(255);
    expect(quantize(-3, -1, 1)).toBe(0);
    expect(quantize(Number.NaN, -1, 1)).toBe(0);
  });

  it('round-trips a grayscale image as a 1-channel PNG', () => {
    const pixels = new Float32Array([-1, 0, 1, 0.5, -0.5, 2]);
    const png = encodePng(pixels, 3, 2, 1, [-1, 1]);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const decoded = decodePng(png);
    expect(decoded).toMatchObject({ width: 3, height: 2, channels: 1 });
    expect(Array.from(decoded.data)).toEqual([0, 128, 255, 191, 64, 255]);
  });

  it('round-trips RGB and honours the range', () => {
    const pixels = new Float32Array([0, 0.5, 1, 1, 0, 0.25]);
    const decoded = decodePng(encodePng(pixels, 2, 1, 3, [0, 1]));
    expect(decoded.channels).toBe(3);
    expect(Array.from(decoded.data)).toEqual([0, 128, 255, 255, 0, 64]);
  });

  it('is deterministic', () => {
    const pixels = Float32Array.from({ length: 28 * 28 }, (_, i) => Math.sin(i));
    expect(encodePng(pixels, 28, 28, 1, [-1, 1]).equals(encodePng(pixels, 28, 28, 1, [-1, 1]))).toBe(true);
  });

  it('rejects inconsistent sizes and ranges', () => {
    expect(() => encodePng(new Float32Array(5), 3, 2, 1, [-1, 1])).toThrow('expected 3*2*1 = 6 values, got 5');
    expect(() => encodePng(new Float32Array(6), 3, 2, 1, [1, 1])).toThrow('expected a range [min, max] with max > min, got [1,1]');
    expect(() => decodePng(Buffer.from('not a png'))).toThrow(/expected a PNG file/);
  });

  it('builds a data URL', () => {
    const png = encodePng(new Float32Array([0]), 1, 1, 1, [0, 1]);
    expect(pngDataUrl(png)).toBe(`data:image/png;base64,${png.toString('base64')}`);
  });
});
