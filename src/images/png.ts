import { PNG } from 'pngjs';
import { BYTE_RANGE, mapPixel } from './pixel-range';

export interface DecodedPng {
  width: number;
  height: number;
  /** Channels present in `data`: 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Maps a float to 0..255: round((v - min) / (max - min) * 255), clamped; NaN becomes 0. */
export function quantize(v: number, min: number, max: number): number {
  const q = Math.round(mapPixel(v, [min, max], BYTE_RANGE));
  return q > 255 ? 255 : q >= 0 ? q : 0;
}

/** How a model's images are encoded: their shape and the range their pixel values come in. */
export interface PngFormat {
  width: number;
  height: number;
  channels: 1 | 3;
  range: [number, number];
}

/** Encodes `n` images laid out row-major in `pixels` (each in `format`), one PNG each. */
export function encodePngs(pixels: Float32Array, n: number, format: PngFormat): Buffer[] {
  const size = format.width * format.height * format.channels;
  if (pixels.length !== n * size) throw new Error(`encodePngs: expected ${n} images of ${size} values, got ${pixels.length} values`);
  return Array.from({ length: n }, (_, i) => encodePng(pixels.subarray(i * size, (i + 1) * size), format.width, format.height, format.channels, format.range));
}

/**
 * Encodes HWC pixels (channels 1 or 3) in `range` as an 8-bit PNG: grayscale for one channel,
 * RGB for three. Same input, same bytes (no timestamps or other metadata).
 */
export function encodePng(pixels: Float32Array, width: number, height: number, channels: 1 | 3, range: [number, number]): Buffer {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new Error(`encodePng: expected positive integer width and height, got ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new Error(`encodePng: expected 1 or 3 channels, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new Error(`encodePng: expected ${width}*${height}*${channels} = ${width * height * channels} values, got ${pixels.length}`);
  }
  const [min, max] = range;
  if (!(Number.isFinite(min) && Number.isFinite(max) && max > min)) throw new Error(`encodePng: expected a range [min, max] with max > min, got [${range}]`);
  // pngjs takes RGBA input and converts to the requested colour type on write.
  const png = new PNG({ width, height, colorType: channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
  const out = png.data;
  for (let i = 0, o = 0; i < width * height; i++, o += 4) {
    if (channels === 1) {
      const g = quantize(pixels[i], min, max);
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
    } else {
      out[o] = quantize(pixels[i * 3], min, max);
      out[o + 1] = quantize(pixels[i * 3 + 1], min, max);
      out[o + 2] = quantize(pixels[i * 3 + 2], min, max);
    }
    out[o + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
}

/** Decodes a PNG; grayscale files come back with one channel, opaque colour with three. */
export function decodePng(buf: Buffer): DecodedPng {
  let png: PNG;
  try {
    png = PNG.sync.read(buf);
  } catch (err) {
    throw new Error(`decodePng: expected a PNG file, got bytes that do not decode (${(err as Error).message})`, { cause: err });
  }
  const { width, height } = png;
  const rgba = png.data;
  // pngjs always hands back RGBA; the colour type says what the file actually held.
  const colorType = (png as unknown as { colorType?: number }).colorType;
  const grey = colorType === 0;
  const alpha = colorType === 4 || colorType === 6;
  const channels: 1 | 3 | 4 = grey ? 1 : alpha ? 4 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[i * 4 + c];
  }
  return { width, height, channels, data };
}

export function pngDataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}
