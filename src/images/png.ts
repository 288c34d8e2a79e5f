import { constants as zlibConstants, crc32, deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { BYTE_RANGE, pixelMapper } from './pixel-range';

export interface DecodedPng {
  width: number;
  height: number;
  /** Channels present in `data`: 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** Maps a float to 0..255: round((v - min) / (max - min) * 255), clamped; NaN becomes 0. */
export function quantize(v: number, min: number, max: number): number {
  return quantizer(min, max)(v);
}

/** quantize with its range fixed, for many values. */
export function quantizer(min: number, max: number): (v: number) => number {
  const map = pixelMapper([min, max], BYTE_RANGE);
  return (v) => {
    const q = Math.round(map(v));
    return q > 255 ? 255 : q >= 0 ? q : 0;
  };
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
 *
 * The bytes are exactly those pngjs writes with its defaults (adaptive filtering: per row, the
 * filter of least sum of absolute differences, first on ties; zlib level 9 with the RLE strategy),
 * which earlier versions of ganql used, so a sample's image and its ETag do not change. Written
 * out here because pngjs spent ~190 us of a 28x28 image's ~225 us in per-pixel objects and streams.
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
  const bytes = new Uint8Array(pixels.length);
  const toByte = quantizer(min, max);
  for (let i = 0; i < pixels.length; i++) bytes[i] = toByte(pixels[i]);
  const filtered = filterRows(bytes, width * channels, height, channels);
  const idat = deflateSync(filtered, { level: 9, strategy: zlibConstants.Z_RLE });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : 2; // colour type: grey or RGB
  // header[10..12]: deflate, adaptive filtering, no interlace (all 0)
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', EMPTY)]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const EMPTY = Buffer.alloc(0);

/** A PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(data.length + 12);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, out.length - 4)), out.length - 4);
  return out;
}

/**
 * PNG's per-row filtering (filter byte, then the filtered row) with the adaptive choice pngjs makes:
 * each of None, Sub, Up, Average and Paeth scored by the sum of |residual| before wrapping to a byte,
 * the lowest taken, the earlier filter on a tie. `bpp` is bytes per pixel (the left neighbour's distance).
 */
function filterRows(px: Uint8Array, rowBytes: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array((rowBytes + 1) * height);
  const sums = new Float64Array(5);
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    const upRow = row - rowBytes;
    sums.fill(0);
    for (let x = 0; x < rowBytes; x++) {
      const v = px[row + x];
      const left = x >= bpp ? px[row + x - bpp] : 0;
      const up = y > 0 ? px[upRow + x] : 0;
      const upLeft = y > 0 && x >= bpp ? px[upRow + x - bpp] : 0;
      sums[0] += v;
      sums[1] += Math.abs(v - left);
      sums[2] += Math.abs(v - up);
      sums[3] += Math.abs(v - ((left + up) >> 1));
      sums[4] += Math.abs(v - paeth(left, up, upLeft));
    }
    let best = 0;
    for (let f = 1; f <= 4; f++) if (sums[f] < sums[best]) best = f;
    const at = y * (rowBytes + 1);
    out[at] = best;
    // Uint8Array stores each residual modulo 256, as PNG defines it.
    for (let x = 0; x < rowBytes; x++) {
      const v = px[row + x];
      const left = x >= bpp ? px[row + x - bpp] : 0;
      const up = y > 0 ? px[upRow + x] : 0;
      const upLeft = y > 0 && x >= bpp ? px[upRow + x - bpp] : 0;
      out[at + 1 + x] = best === 0 ? v : best === 1 ? v - left : best === 2 ? v - up : best === 3 ? v - ((left + up) >> 1) : v - paeth(left, up, upLeft);
    }
  }
  return out;
}

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const pLeft = Math.abs(p - left);
  const pUp = Math.abs(p - up);
  const pUpLeft = Math.abs(p - upLeft);
  if (pLeft <= pUp && pLeft <= pUpLeft) return left;
  return pUp <= pUpLeft ? up : upLeft;
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
