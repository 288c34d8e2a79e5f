import { gridPng } from '../images/grid';
import { mapPixels, type PixelRange } from '../images/pixel-range';
import { nearestNeighbours } from './nearest';
import type { DatasetSplit } from './reference-datasets';

/** Images the figure shows, each above its nearest training image: two rows of eight pairs. */
export const NEAREST_FIGURE_SHOWN = 16;
/** Images whose nearest training image is measured for the figure's statistics (the shown ones first). */
export const NEAREST_FIGURE_MEASURED = 256;
const COLUMNS = 8;

/** Pixel L2 distances (pixels in [0, 1]) from images to their nearest training image. */
export interface DistanceSummary {
  images: number;
  median: number;
  min: number;
  /** Share of the images whose nearest training image is closer than the closest held-out real image's (null without real images). */
  closerThanRealMin: number | null;
}

/** What `npm run eval -- --nearest FILE` reports beside the figure it writes. */
export interface NearestReport {
  /** The PNG, as named on the command line. */
  figure: string;
  /** Images in the figure, each above its nearest training image. */
  shown: number;
  /** The evaluated images (samples, or real test images with --real). */
  subject: DistanceSummary;
  /** The same for held-out real test images: where a model that does not copy its training set sits. Null for --real itself. */
  real: DistanceSummary | null;
}

/** Images in a range, as consecutive rows of `pixels` values. */
export interface ImageRows {
  images: Float32Array;
  count: number;
  range: PixelRange;
}

/**
 * Goodfellow et al. 2014's figure 2 for a set of images: the first NEAREST_FIGURE_SHOWN, each above
 * its nearest training image by pixel L2, as one PNG (rows of eight images, then the row of their
 * neighbours), and the distances of up to NEAREST_FIGURE_MEASURED of them beside those of held-out
 * real images (`real`), which show what "not a copy" looks like on this dataset. Distances are
 * Euclidean with pixels in [0, 1]. Pure: the caller writes the PNG.
 */
export function nearestFigure(
  subject: ImageRows,
  train: DatasetSplit,
  real?: ImageRows,
): { png: Buffer; subject: DistanceSummary; real: DistanceSummary | null } {
  const [h, w, c] = train.imageShape;
  if (c !== 1 && c !== 3) throw new Error(`nearestFigure: expected grayscale or RGB training images, got ${c} channels`);
  const pixels = h * w * c;
  if (subject.count < NEAREST_FIGURE_SHOWN) throw new Error(`nearestFigure: expected at least ${NEAREST_FIGURE_SHOWN} images, got ${subject.count}`);
  const training = { data: train.images, rows: train.count, cols: pixels };
  const measure = (rows: ImageRows): { found: { index: number; distance: number }[]; queries: Float32Array } => {
    const count = Math.min(rows.count, NEAREST_FIGURE_MEASURED);
    if (rows.images.length < count * pixels) throw new Error(`nearestFigure: expected ${count} images of ${pixels} values, got ${rows.images.length} values`);
    // In the training images' range, so distances compare like with like.
    const queries = mapPixels(rows.images.subarray(0, count * pixels), rows.range, train.range);
    return { found: nearestNeighbours({ data: queries, rows: count, cols: pixels }, training), queries };
  };
  const scale = 1 / (train.range[1] - train.range[0]);
  const ofSubject = measure(subject);
  const ofReal = real === undefined ? undefined : measure(real);
  const realMin = ofReal === undefined ? undefined : Math.min(...ofReal.found.map((f) => f.distance));
  const summary = (found: { distance: number }[]): DistanceSummary => {
    const sorted = found.map((f) => f.distance).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return {
      images: sorted.length,
      median: median * scale,
      min: sorted[0] * scale,
      closerThanRealMin: realMin === undefined ? null : sorted.filter((d) => d < realMin).length / sorted.length,
    };
  };
  const tiles: Float32Array[] = [];
  for (let row = 0; row < NEAREST_FIGURE_SHOWN; row += COLUMNS) {
    for (let i = row; i < row + COLUMNS; i++) tiles.push(ofSubject.queries.subarray(i * pixels, (i + 1) * pixels));
    for (let i = row; i < row + COLUMNS; i++) {
      const index = ofSubject.found[i].index;
      tiles.push(train.images.subarray(index * pixels, (index + 1) * pixels));
    }
  }
  const png = gridPng(tiles, { width: w, height: h, channels: c, range: [train.range[0], train.range[1]], columns: COLUMNS });
  return { png, subject: summary(ofSubject.found), real: ofReal === undefined ? null : summary(ofReal.found) };
}
