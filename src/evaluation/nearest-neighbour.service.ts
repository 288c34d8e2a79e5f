import { setImmediate as nextTurn } from 'node:timers/promises';
import { badInput } from '../errors/ganql-error';
import { mapPixels } from '../images/pixel-range';
import { encodePng } from '../images/png';
import type { ModelRegistry } from '../models/model-registry';
import type { RunService } from '../runs/run.service';
import type { SampleService, SampleView } from '../samples/sample.service';
import { describe as show, expectIntInRange } from '../validation/checks';
import type { DatasetCache } from './dataset-cache';
import { EVALUATION_LIMITS } from './evaluation.limits';
import { nearestNeighbours } from './nearest';

/** Queries per scan of the training split: ~4 x 9,000 x 784 multiply-adds, tens of ms, then the event loop gets a turn. */
const QUERIES_PER_STEP = 4;

/** A sample beside its nearest training image. */
export interface NeighbourView {
  sample: SampleView;
  dataset: string;
  split: 'train';
  /** Row of the training image in the split (loadMnist({ split: 'train', seed: 0 }) order for mnist). */
  trainingIndex: number;
  label: number;
  /** Euclidean pixel distance with pixels in [0, 1]. */
  distance: number;
  png: Buffer;
  width: number;
  height: number;
  channels: number;
}

/**
 * The nearest training image of each sample by pixel L2 (Goodfellow et al. 2014, figure 2): shows
 * whether a model reproduces its training data. Brute force in float64 over the model's training
 * split, a few queries per step so other requests interleave.
 */
export class NearestNeighbourService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly samples: SampleService,
    private readonly datasets: DatasetCache,
    private readonly runs: RunService,
  ) {}

  nearestNeighbours(sampleIds: readonly string[]): Promise<NeighbourView[]> {
    return this.runs.record({ kind: 'NEAREST_NEIGHBOURS', parameters: { sampleIds } }, async (run) => {
      expectIntInRange('sampleIds (number of ids)', sampleIds.length, EVALUATION_LIMITS.sampleIds.min, EVALUATION_LIMITS.sampleIds.max);
      const views = await this.samples.regenerateMany(sampleIds.map((id, i) => ({ id, field: `sampleIds[${i}]` })));
      const modelIds = [...new Set(views.map((v) => v.modelId))];
      if (modelIds.length === 1) run.setModel(modelIds[0]);
      const out = new Array<NeighbourView>(views.length);
      for (const modelId of modelIds) {
        const positions = views.flatMap((v, i) => (v.modelId === modelId ? [i] : []));
        const model = this.registry.get(modelId);
        const name = model.manifest.dataset;
        const dataset = this.datasets.dataset(name);
        const field = `sampleIds[${positions[0]}]`;
        if (!dataset)
          throw badInput(`${field}: expected a sample of a model whose training images ganql can load, got one of ${modelId}, trained on ${show(name)}`);
        const [h, w, c] = dataset.imageShape;
        if (model.manifest.imageShape.join('x') !== dataset.imageShape.join('x')) {
          throw badInput(
            `${field}: expected a sample of ${dataset.imageShape.join('x')} pixels like dataset ${name}, got one of ${model.manifest.imageShape.join('x')}`,
          );
        }
        const split = await this.datasets.get(name, 'train');
        const pixels = h * w * c;
        const [lo, hi] = split.range;
        const training = { data: split.images, rows: split.count, cols: pixels };
        for (let p0 = 0; p0 < positions.length; p0 += QUERIES_PER_STEP) {
          const chunk = positions.slice(p0, p0 + QUERIES_PER_STEP);
          // The samples in the dataset's pixel range, so distances compare like with like.
          const queries = new Float32Array(chunk.length * pixels);
          chunk.forEach((i, k) => mapPixels(views[i].pixels, model.manifest.outputRange, split.range, queries.subarray(k * pixels, (k + 1) * pixels)));
          const found = nearestNeighbours({ data: queries, rows: chunk.length, cols: pixels }, training);
          chunk.forEach((i, k) => {
            const index = found[k].index;
            out[i] = {
              sample: views[i],
              dataset: name,
              split: 'train',
              trainingIndex: index,
              label: split.labels[index],
              distance: found[k].distance / (hi - lo),
              // Every REFERENCE_DATASETS shape is grayscale or RGB.
              png: encodePng(split.images.subarray(index * pixels, (index + 1) * pixels), w, h, c as 1 | 3, split.range),
              width: w,
              height: h,
              channels: c,
            };
          });
          await nextTurn();
        }
      }
      return { value: out, result: { sampleIds: [...sampleIds], trainingIndices: out.map((n) => n.trainingIndex) } };
    });
  }
}
