import { pngDataUrl } from '../../images/png';
import type { ArithmeticView, GridView, InterpolationView } from '../../latent/latent.service';
import type { Image } from '../common/image.type';
import { toSample } from '../samples/sample.mapper';
import type { Interpolation, LatentArithmetic } from './latent.type';

function toImage(grid: GridView): Image {
  return { mimeType: 'image/png', width: grid.width, height: grid.height, channels: grid.channels, dataUrl: pngDataUrl(grid.png) };
}

export function toInterpolation(view: InterpolationView): Interpolation {
  return { runId: view.runId, method: view.method, samples: view.samples.map(toSample), grid: toImage(view.grid) };
}

export function toLatentArithmetic(view: ArithmeticView): LatentArithmetic {
  return {
    runId: view.runId,
    seed: view.seed,
    result: toSample(view.result),
    neighbours: view.neighbours.map(toSample),
    concepts: view.concepts.map((c) => ({ coefficient: c.coefficient, exemplarCount: c.exemplarCount, mean: toSample(c.mean) })),
    grid: toImage(view.grid),
  };
}
