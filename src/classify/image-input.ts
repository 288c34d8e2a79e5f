import { badInput } from '../errors/ganql-error';
import { decodePng } from '../images/png';
import { describe } from '../validation/checks';

/** An image as a client sends it: exactly one of a base64 PNG or raw pixel values. */
export interface ImageInput {
  /** Base64 of a PNG file, optionally as a data URL ("data:image/png;base64,..."). */
  png?: string | null;
  /** height*width*channels values in 0..255, row-major (HWC), as a PNG holds them. */
  pixels?: readonly number[] | null;
}

/** [height, width, channels] the model takes; channels 1 (grayscale) or 3 (RGB). */
export type ImageShape = readonly [number, number, number];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DATA_URL_PREFIX = 'data:image/png;base64,';
/** Standard base64 (RFC 4648 section 4) with its padding: no whitespace, no URL-safe alphabet. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Room for ancillary chunks (text, colour profiles) on top of the pixel data. */
const PNG_METADATA_ALLOWANCE_BYTES = 64 * 1024;

/**
 * Longest base64 string accepted for one image of `shape`: that of a PNG holding the image
 * uncompressed at the widest format (RGBA, 16 bits a channel) plus 64 KiB of other chunks. A real
 * PNG of the right size is always shorter; anything longer is refused before it is decoded.
 */
export function maxPngBase64Length(shape: ImageShape): number {
  const [height, width] = shape;
  const bytes = height * (1 + width * 8) + PNG_METADATA_ALLOWANCE_BYTES;
  return 4 * Math.ceil(bytes / 3);
}

/**
 * Checks one image input against the model's image shape and returns its pixels, HWC, in 0..255.
 * `field` names it in errors ("images[2]"). A PNG's colour type is converted when no information is
 * lost: RGBA with every pixel opaque loses its alpha; RGB (or grey+alpha) whose three channels are
 * equal everywhere becomes grayscale for a 1-channel model; grayscale is repeated into three channels
 * for a 3-channel model. Anything else is refused with the first pixel that prevents it.
 */
export function decodeImageInput(field: string, input: ImageInput, shape: ImageShape): Float32Array {
  const hasPng = input.png !== undefined && input.png !== null;
  const hasPixels = input.pixels !== undefined && input.pixels !== null;
  if (hasPng === hasPixels) {
    throw badInput(
      `${field}: expected exactly one of png (base64 of a PNG) or pixels (${sizeText(shape)} values in 0..255), got ${hasPng ? 'both' : 'neither'}`,
    );
  }
  return hasPng ? fromPng(`${field}.png`, input.png as string, shape) : fromPixels(`${field}.pixels`, input.pixels as readonly number[], shape);
}

function fromPixels(field: string, pixels: readonly number[], shape: ImageShape): Float32Array {
  const [height, width, channels] = shape;
  const expected = height * width * channels;
  if (pixels.length !== expected) {
    throw badInput(`${field}: expected ${expected} values (${sizeText(shape)}, row-major), got ${pixels.length}`);
  }
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) {
    const v = pixels[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 255) {
      throw badInput(`${field}[${i}]: expected a finite number in 0..255, got ${describe(v)}`);
    }
    out[i] = v;
  }
  return out;
}

function fromPng(field: string, text: string, shape: ImageShape): Float32Array {
  const [height, width, channels] = shape;
  const base64 = text.startsWith(DATA_URL_PREFIX) ? text.slice(DATA_URL_PREFIX.length) : text;
  const limit = maxPngBase64Length(shape);
  if (base64.length > limit) {
    throw badInput(`${field}: expected at most ${limit} base64 characters (a ${width}x${height} PNG), got ${base64.length}`);
  }
  if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) {
    throw badInput(`${field}: expected base64 of a PNG file (characters A-Z a-z 0-9 + /, padded with = to a multiple of 4), got ${describeBase64(base64)}`);
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw badInput(`${field}: expected a PNG file, got ${bytes.length} bytes that do not start with the PNG signature`);
  }
  // The size its IHDR (the first chunk) claims, checked before decoding: a 95 KB PNG can claim 30000x30000
  // and make the decoder allocate 3.6 GB of pixels.
  if (bytes.length >= 24 && bytes.toString('latin1', 12, 16) === 'IHDR' && (bytes.readUInt32BE(16) !== width || bytes.readUInt32BE(20) !== height)) {
    throw badInput(`${field}: expected a ${width}x${height} image, got ${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`);
  }
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes);
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^decodePng: expected a PNG file, got bytes that do not decode \((.*)\)$/s, '$1') : String(error);
    throw badInput(`${field}: expected a valid PNG file, got a corrupt one (${reason})`);
  }
  if (png.width !== width || png.height !== height) {
    throw badInput(`${field}: expected a ${width}x${height} image, got ${png.width}x${png.height}`);
  }
  return toChannels(field, png, channels);
}

/** The PNG's pixels with `channels` channels, or bad input naming the first pixel that prevents it. */
function toChannels(field: string, png: ReturnType<typeof decodePng>, channels: number): Float32Array {
  const { width, height, data } = png;
  const count = width * height;
  let source = png.channels;
  let values: Uint8Array = data;
  if (source === 4) {
    for (let i = 0; i < count; i++) {
      if (values[i * 4 + 3] !== 255) {
        throw badInput(
          `${field}: expected an opaque image, got a PNG with transparency (alpha ${values[i * 4 + 3]} at x=${i % width}, y=${Math.floor(i / width)})`,
        );
      }
    }
    values = Uint8Array.from({ length: count * 3 }, (_, k) => data[Math.floor(k / 3) * 4 + (k % 3)]);
    source = 3;
  }
  const out = new Float32Array(count * channels);
  if (source === channels) {
    out.set(values);
  } else if (source === 3 && channels === 1) {
    for (let i = 0; i < count; i++) {
      const [r, g, b] = [values[i * 3], values[i * 3 + 1], values[i * 3 + 2]];
      if (r !== g || g !== b) {
        throw badInput(
          `${field}: expected a grayscale image (1 channel), got a colour PNG whose channels differ (r=${r}, g=${g}, b=${b} at x=${i % width}, y=${Math.floor(i / width)}); convert it to grayscale first`,
        );
      }
      out[i] = r;
    }
  } else if (source === 1 && channels === 3) {
    for (let i = 0; i < count * 3; i++) out[i] = values[Math.floor(i / 3)];
  } else {
    throw badInput(`${field}: expected an image with ${channels} channels, got a PNG with ${source}`);
  }
  return out;
}

/** "28x28x1 = 784" for error messages and descriptions. */
function sizeText(shape: ImageShape): string {
  const [height, width, channels] = shape;
  return `${height}x${width}x${channels} = ${height * width * channels}`;
}

function describeBase64(text: string): string {
  const bad = text.search(/[^A-Za-z0-9+/=]/);
  if (text.length === 0) return 'an empty string';
  if (bad >= 0) return `the character ${JSON.stringify(text[bad])} at position ${bad}`;
  return `${text.length} characters, not a multiple of 4 or with misplaced padding`;
}
