import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
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

/** What encodePng wrote before it had its own writer: pngjs with its defaults, from RGBA input. */
function encodeWithPngjs(pixels: Float32Array, width: number, height: number, channels: 1 | 3, range: [number, number]): Buffer {
  const options = { width, height, colorType: channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 } as const;
  const png = new PNG(options);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = quantize(pixels[i * channels + (channels === 1 ? 0 : c)], range[0], range[1]);
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png, options);
}

describe('encodePng bytes', () => {
  // Seeded, so a failure names an image that can be made again.
  const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const images: [string, number, number, 1 | 3, (i: number) => number][] = [
    ['noise 28x28', 28, 28, 1, random(1)],
    ['a gradient 28x28', 28, 28, 1, (i) => (i % 28) / 14 - 1],
    ['constant', 28, 28, 1, () => -1],
    ['sparse strokes', 28, 28, 1, (i) => (Math.sin(i * 0.37) > 0.6 ? 1 : -1)],
    ['out of range and NaN', 9, 7, 1, (i) => (i % 3 === 0 ? NaN : i % 3 === 1 ? 5 : -5)],
    ['1x1', 1, 1, 1, () => 0.25],
    ['RGB noise 13x5', 13, 5, 3, random(2)],
    ['RGB smooth 64x64', 64, 64, 3, (i) => Math.sin(i / 50)],
  ];
  it.each(images)('are the bytes pngjs wrote before (%s), so samples keep their image and ETag', (_name, width, height, channels, value) => {
    const pixels = Float32Array.from({ length: width * height * channels }, (_, i) => value(i));
    expect(encodePng(pixels, width, height, channels, [-1, 1]).equals(encodeWithPngjs(pixels, width, height, channels, [-1, 1]))).toBe(true);
  });
});
