import type { TrainingData } from '../data/training-data';
import { mapPixels, SIGNED_RANGE } from '../images/pixel-range';
import { encodePng } from '../images/png';
import { imageOf } from './analysis-inputs';
import type { TestImageView } from './feature-analysis.types';

/** Every image of a split (pixels in [-1, 1]) mapped into a feature network's input range. */
export function inputsOf(data: TrainingData, range: readonly [number, number]): Float32Array[] {
  return Array.from({ length: data.count }, (_, i) => mapPixels(imageOf(data, i), SIGNED_RANGE, range));
}

/** The pixel-wise mean of equally sized images. */
export function meanImage(images: readonly Float32Array[]): Float32Array {
  const mean = new Float32Array(images[0].length);
  for (const image of images) for (let i = 0; i < mean.length; i++) mean[i] += image[i] / images.length;
  return mean;
}

export function l2Distance(values: Float32Array, centre: Float32Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += (values[i] - centre[i]) ** 2;
  return Math.sqrt(s);
}

export function pngChannels(channels: number): 1 | 3 {
  if (channels !== 1 && channels !== 3) throw new Error(`cannot encode ${channels} channels as PNG`);
  return channels;
}

export function testImageView(test: TrainingData, index: number, activation: number): TestImageView {
  const [height, width, channels] = test.shape;
  return {
    index,
    label: test.classes[test.labels[index]],
    activation,
    png: encodePng(imageOf(test, index), width, height, pngChannels(channels), [-1, 1]),
    width,
    height,
    channels,
  };
}
