import { describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { NEAREST_FIGURE_SHOWN, nearestFigure } from '../../src/evaluation/nearest-figure';
import type { DatasetSplit } from '../../src/evaluation/reference-datasets';

/** 2x2 grayscale images in [-1, 1]: image k has every pixel at -1 + k / 20. */
function split(count: number): DatasetSplit {
  const images = new Float32Array(count * 4);
  for (let k = 0; k < count; k++) images.fill(-1 + k / 20, k * 4, (k + 1) * 4);
  return { images, labels: new Uint8Array(count), count, imageShape: [2, 2, 1], range: [-1, 1] };
}

describe('nearestFigure', () => {
  const train = split(40);

  it('finds copies of training images at distance 0 and puts each image above its nearest training image', () => {
    // Images in [0, 1] (another range than the training split's): copies of training images 3, 5, ..., 33.
    const copies = new Float32Array(NEAREST_FIGURE_SHOWN * 4);
    for (let i = 0; i < NEAREST_FIGURE_SHOWN; i++) copies.fill((-1 + (3 + 2 * i) / 20 + 1) / 2, i * 4, (i + 1) * 4);
    const { png, subject, real } = nearestFigure({ images: copies, count: NEAREST_FIGURE_SHOWN, range: [0, 1] }, train);
    // Zero but for the float32 rounding of mapping [0, 1] to [-1, 1].
    expect(subject).toMatchObject({ images: NEAREST_FIGURE_SHOWN, closerThanRealMin: null });
    expect(subject.median).toBeLessThan(1e-6);
    expect(subject.min).toBeLessThan(1e-6);
    expect(real).toBeNull();
    const decoded = decodePng(png);
    // 8 columns and 4 rows of 2x2 images with 2 pixels of padding.
    expect(decoded).toMatchObject({ width: 8 * 2 + 9 * 2, height: 4 * 2 + 5 * 2, channels: 1 });
    // Row 1 (samples) and row 2 (their neighbours) hold the same pixel values column by column.
    const at = (col: number, row: number): number => decoded.data[(2 + row * 4) * decoded.width + 2 + col * 4];
    for (let col = 0; col < 8; col++) expect(at(col, 1)).toBe(at(col, 0));
  });

  it('measures distances with pixels in [0, 1] and counts the images closer than every real one', () => {
    // Images a quarter of the way from training image 0 to 1 (1/160 per pixel in [0, 1]: 0.0125 over 4 pixels)
    // against real images halfway between 10 and 11 (0.025) and one past the last training image.
    const near = new Float32Array(NEAREST_FIGURE_SHOWN * 4).fill(-1 + 0.25 / 20);
    const realImages = new Float32Array(NEAREST_FIGURE_SHOWN * 4).fill(-1 + 10.5 / 20);
    realImages.fill(1 + 0.5, 0, 4);
    const { subject, real } = nearestFigure({ images: near, count: NEAREST_FIGURE_SHOWN, range: [-1, 1] }, train, {
      images: realImages,
      count: NEAREST_FIGURE_SHOWN,
      range: [-1, 1],
    });
    expect(subject.median).toBeCloseTo(0.0125, 6);
    expect(subject.closerThanRealMin).toBe(1);
    expect(real!.min).toBeCloseTo(0.025, 6);
    expect(real!.median).toBeCloseTo(0.025, 6);
    expect(real!.closerThanRealMin).toBe(0);
    expect(real!.images).toBe(NEAREST_FIGURE_SHOWN);
  });

  it('refuses too few images to fill the figure', () => {
    expect(() => nearestFigure({ images: new Float32Array(4), count: 1, range: [-1, 1] }, train)).toThrow('nearestFigure: expected at least 16 images, got 1');
  });
});
