import { encodePng } from './png';

export interface GridOptions {
  /** Width of one image in pixels. */
  width: number;
  /** Height of one image in pixels. */
  height: number;
  channels: 1 | 3;
  /** Pixel range of the images, e.g. [-1, 1] for a tanh generator. */
  range: [number, number];
  /** Images per row; default ceil(sqrt(n)), so 64 images make an 8x8 grid. */
  columns?: number;
  /** Pixels of background (the range minimum, i.e. black) between and around images; default 2. */
  padding?: number;
}

/** Tiles HWC images row by row into one PNG. */
export function gridPng(images: Float32Array[], opts: GridOptions): Buffer {
  const { width, height, channels, range } = opts;
  const n = images.length;
  if (n === 0) throw new Error('gridPng: expected at least one image, got 0');
  const columns = opts.columns ?? Math.ceil(Math.sqrt(n));
  const padding = opts.padding ?? 2;
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`gridPng: expected columns to be a positive integer, got ${columns}`);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`gridPng: expected padding to be a non-negative integer, got ${padding}`);
  const rows = Math.ceil(n / columns);
  const gridW = columns * width + (columns + 1) * padding;
  const gridH = rows * height + (rows + 1) * padding;
  const out = new Float32Array(gridW * gridH * channels).fill(range[0]);
  images.forEach((img, i) => {
    if (img.length !== width * height * channels) {
      throw new Error(`gridPng: image ${i}: expected ${width * height * channels} values, got ${img.length}`);
    }
    const x0 = padding + (i % columns) * (width + padding);
    const y0 = padding + Math.floor(i / columns) * (height + padding);
    for (let y = 0; y < height; y++) {
      const src = y * width * channels;
      out.set(img.subarray(src, src + width * channels), ((y0 + y) * gridW + x0) * channels);
    }
  });
  return encodePng(out, gridW, gridH, channels, range);
}
