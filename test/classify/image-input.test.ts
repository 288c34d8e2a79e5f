import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { decodeImageInput, maxPngBase64Length } from '../../src/classify/image-input';
import { ErrorCode } from '../../src/errors/error-code';
import { GanqlError } from '../../src/errors/ganql-error';
import { encodePng } from '../../src/images/png';

const GREY: [number, number, number] = [28, 28, 1];
const RGB: [number, number, number] = [28, 28, 3];

/** 0..255 pixels, HWC, with a pattern that differs per pixel and channel. */
function pattern(width: number, height: number, channels: number): Float32Array {
  return Float32Array.from({ length: width * height * channels }, (_, i) => (i * 37 + 11) % 256);
}

/** A PNG from 0..255 values with the given colour type (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA) and depth. */
function rawPng(width: number, height: number, colorType: 0 | 2 | 4 | 6, rgba: (i: number) => [number, number, number, number], bitDepth: 8 | 16 = 8): Buffer {
  const png = new PNG({ width, height });
  if (bitDepth === 16) {
    // pngjs writes 16-bit files from 16-bit input: v * 257 maps 0..255 onto 0..65535.
    const wide = new Uint16Array(width * height * 4);
    for (let i = 0; i < width * height; i++)
      wide.set(
        rgba(i).map((v) => v * 257),
        i * 4,
      );
    // pngjs types data as a Buffer; its 16-bit packer reads a Uint16Array there.
    png.data = wide as unknown as Buffer;
  } else {
    for (let i = 0; i < width * height; i++) png.data.set(rgba(i), i * 4);
  }
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth });
}

function expectBadInput(run: () => unknown, message: string): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GanqlError);
  expect((error as GanqlError).code).toBe(ErrorCode.BAD_USER_INPUT);
  expect((error as GanqlError).message).toBe(message);
}

describe('decodeImageInput', () => {
  it('takes pixels as given and a grayscale PNG of them to the same values, with or without the data URL prefix', () => {
    const pixels = pattern(28, 28, 1);
    expect(Array.from(decodeImageInput('images[0]', { pixels: Array.from(pixels) }, GREY))).toEqual(Array.from(pixels));
    const png = encodePng(pixels, 28, 28, 1, [0, 255]);
    expect(Array.from(decodeImageInput('images[0]', { png: png.toString('base64') }, GREY))).toEqual(Array.from(pixels));
    expect(Array.from(decodeImageInput('images[0]', { png: `data:image/png;base64,${png.toString('base64')}` }, GREY))).toEqual(Array.from(pixels));
    // Fractional values within range are kept as given.
    expect(decodeImageInput('images[0]', { pixels: Array.from(pixels, (v) => v / 2) }, GREY)[3]).toBe(pixels[3] / 2);
  });

  it('converts without loss only: equal-channel RGB and opaque RGBA or grey+alpha to grey; grey to RGB', () => {
    const grey = pattern(28, 28, 1);
    const expected = Array.from(grey);
    const rgb = rawPng(28, 28, 2, (i) => [grey[i], grey[i], grey[i], 255]);
    expect(Array.from(decodeImageInput('images[1]', { png: rgb.toString('base64') }, GREY))).toEqual(expected);
    const rgba = rawPng(28, 28, 6, (i) => [grey[i], grey[i], grey[i], 255]);
    expect(Array.from(decodeImageInput('images[1]', { png: rgba.toString('base64') }, GREY))).toEqual(expected);
    const greyAlpha = rawPng(28, 28, 4, (i) => [grey[i], grey[i], grey[i], 255]);
    expect(Array.from(decodeImageInput('images[1]', { png: greyAlpha.toString('base64') }, GREY))).toEqual(expected);
    const greyPng = encodePng(grey, 28, 28, 1, [0, 255]);
    const tiled = decodeImageInput('images[1]', { png: greyPng.toString('base64') }, RGB);
    expect(Array.from(tiled.subarray(0, 6))).toEqual([grey[0], grey[0], grey[0], grey[1], grey[1], grey[1]]);
    const colour = pattern(28, 28, 3);
    expect(Array.from(decodeImageInput('images[1]', { png: encodePng(colour, 28, 28, 3, [0, 255]).toString('base64') }, RGB))).toEqual(Array.from(colour));
  });

  it('reads a 16-bit grayscale PNG scaled to 0..255', () => {
    const grey = pattern(28, 28, 1);
    const png = rawPng(28, 28, 0, (i) => [grey[i], grey[i], grey[i], 255], 16);
    expect(Array.from(decodeImageInput('images[0]', { png: png.toString('base64') }, GREY))).toEqual(Array.from(grey));
  });

  it('refuses neither or both of png and pixels', () => {
    expectBadInput(
      () => decodeImageInput('images[3]', {}, GREY),
      'images[3]: expected exactly one of png (base64 of a PNG) or pixels (28x28x1 = 784 values in 0..255), got neither',
    );
    expectBadInput(
      () => decodeImageInput('images[3]', { png: null, pixels: null }, GREY),
      'images[3]: expected exactly one of png (base64 of a PNG) or pixels (28x28x1 = 784 values in 0..255), got neither',
    );
    expectBadInput(
      () => decodeImageInput('images[3]', { png: 'AAAA', pixels: [1] }, GREY),
      'images[3]: expected exactly one of png (base64 of a PNG) or pixels (28x28x1 = 784 values in 0..255), got both',
    );
  });

  it('refuses pixels of the wrong count, out of 0..255 or not finite, naming the value', () => {
    expectBadInput(
      () => decodeImageInput('images[0]', { pixels: new Array(785).fill(0) }, GREY),
      'images[0].pixels: expected 784 values (28x28x1 = 784, row-major), got 785',
    );
    expectBadInput(
      () => decodeImageInput('images[0]', { pixels: new Array(784 * 3).fill(0) }, GREY),
      'images[0].pixels: expected 784 values (28x28x1 = 784, row-major), got 2352',
    );
    const values = new Array(784).fill(0);
    values[17] = 256;
    expectBadInput(() => decodeImageInput('images[2]', { pixels: values }, GREY), 'images[2].pixels[17]: expected a finite number in 0..255, got 256');
    values[17] = -0.5;
    expectBadInput(() => decodeImageInput('images[2]', { pixels: values }, GREY), 'images[2].pixels[17]: expected a finite number in 0..255, got -0.5');
    values[17] = Number.NaN;
    expectBadInput(() => decodeImageInput('images[2]', { pixels: values }, GREY), 'images[2].pixels[17]: expected a finite number in 0..255, got NaN');
    values[17] = Number.POSITIVE_INFINITY;
    expectBadInput(() => decodeImageInput('images[2]', { pixels: values }, GREY), 'images[2].pixels[17]: expected a finite number in 0..255, got Infinity');
  });

  it('refuses broken base64, bytes that are not a PNG, and a corrupt PNG', () => {
    expectBadInput(
      () => decodeImageInput('images[1]', { png: 'iVBOR w0K' }, GREY),
      'images[1].png: expected base64 of a PNG file (characters A-Z a-z 0-9 + /, padded with = to a multiple of 4), got the character " " at position 5',
    );
    expectBadInput(
      () => decodeImageInput('images[1]', { png: 'abcde' }, GREY),
      'images[1].png: expected base64 of a PNG file (characters A-Z a-z 0-9 + /, padded with = to a multiple of 4), got 5 characters, not a multiple of 4 or with misplaced padding',
    );
    expectBadInput(
      () => decodeImageInput('images[1]', { png: '' }, GREY),
      'images[1].png: expected base64 of a PNG file (characters A-Z a-z 0-9 + /, padded with = to a multiple of 4), got an empty string',
    );
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
    expectBadInput(
      () => decodeImageInput('images[1]', { png: jpeg.toString('base64') }, GREY),
      'images[1].png: expected a PNG file, got 12 bytes that do not start with the PNG signature',
    );
    const png = encodePng(pattern(28, 28, 1), 28, 28, 1, [0, 255]);
    const truncated = png.subarray(0, png.length - 30);
    let error: unknown;
    try {
      decodeImageInput('images[1]', { png: truncated.toString('base64') }, GREY);
    } catch (e) {
      error = e;
    }
    expect((error as GanqlError).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect((error as GanqlError).message).toMatch(/^images\[1\]\.png: expected a valid PNG file, got a corrupt one \(.+\)$/);
  });

  it('refuses a PNG of another size, a transparent one, and colour for a grayscale model', () => {
    const big = encodePng(pattern(32, 30, 1), 32, 30, 1, [0, 255]);
    expectBadInput(() => decodeImageInput('images[2]', { png: big.toString('base64') }, GREY), 'images[2].png: expected a 28x28 image, got 32x30');
    const seeThrough = rawPng(28, 28, 6, (i) => [9, 9, 9, i === 30 ? 128 : 255]);
    expectBadInput(
      () => decodeImageInput('images[0]', { png: seeThrough.toString('base64') }, GREY),
      'images[0].png: expected an opaque image, got a PNG with transparency (alpha 128 at x=2, y=1)',
    );
    const colour = rawPng(28, 28, 2, (i) => (i === 29 ? [10, 20, 30, 255] : [5, 5, 5, 255]));
    expectBadInput(
      () => decodeImageInput('images[0]', { png: colour.toString('base64') }, GREY),
      'images[0].png: expected a grayscale image (1 channel), got a colour PNG whose channels differ (r=10, g=20, b=30 at x=1, y=1); convert it to grayscale first',
    );
  });

  it('refuses a base64 string longer than any PNG of the model size before decoding it', () => {
    const limit = maxPngBase64Length(GREY);
    // 28 rows of (1 filter byte + 28 pixels x 8 bytes) plus 64 KiB, in base64.
    expect(limit).toBe(4 * Math.ceil((28 * (1 + 28 * 8) + 65536) / 3));
    expectBadInput(
      () => decodeImageInput('images[4]', { png: 'A'.repeat(limit + 4) }, GREY),
      `images[4].png: expected at most ${limit} base64 characters (a 28x28 PNG), got ${limit + 4}`,
    );
  });
});
