import { badInput } from '../errors/ganql-error';
import { BYTE_RANGE, mapPixels } from '../images/pixel-range';
import type { InferencePool } from '../inference/pool';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';
import type { RunService } from '../runs/run.service';
import { decodeImageInput, type ImageInput } from './image-input';
import { readKPlusOne } from './k-plus-one-reading';

export interface ClassifyRequest {
  modelId: string;
  images: readonly ImageInput[];
}

/** What the K+1 classifier of a model says about one image of a classify request. */
export interface ClassificationView {
  modelId: string;
  runId: string;
  /** Position of the image in the request. */
  index: number;
  labelIndex: number;
  /** Name of the most probable class, from the manifest. */
  label: string;
  /** p(label | x, y <= K). */
  confidence: number;
  /** The K class entries of the K+1 softmax, in the manifest's class order. */
  probabilities: { class: string; probability: number }[];
  /** p(K+1 | x): that the image is generated. */
  generatedProbability: number;
}

type Classifier = NonNullable<LoadedModel['manifest']['classifier']>;

/** Classifies images with a semi-supervised K+1 model's classifier, through the shared pool. */
export class ClassifyService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly runs: RunService,
    /** Most images per request (GANQL_MAX_SAMPLES), as for samples. */
    private readonly maxImages: number,
  ) {}

  /**
   * One CLASSIFY run: checks the count, the model and every image (bad input names the image, e.g.
   * "images[2].png"), then runs the classifier on all images in the pool's batches.
   */
  classify(request: ClassifyRequest): Promise<ClassificationView[]> {
    const images = request.images;
    // The images themselves are not kept: a run records how many came, and in which form.
    const parameters = {
      modelId: request.modelId,
      images: images.length,
      png: images.filter((i) => i.png !== undefined && i.png !== null).length,
      pixels: images.filter((i) => i.pixels !== undefined && i.pixels !== null).length,
    };
    return this.runs.record({ kind: 'CLASSIFY', modelId: request.modelId, parameters }, async (run) => {
      if (images.length < 1 || images.length > this.maxImages) {
        throw badInput(`images: expected 1..${this.maxImages} images (GANQL_MAX_SAMPLES), got ${images.length}`);
      }
      const model = this.registry.resolve(request.modelId);
      run.setModel(model.id);
      const classifier = this.classifierOf(model);
      const inputs = images.map((image, i) => mapPixels(decodeImageInput(`images[${i}]`, image, model.manifest.imageShape), BYTE_RANGE, classifier.inputRange));
      const logits = await this.pool.classify(model.id, inputs);
      const views = logits.map((row, index): ClassificationView => {
        const reading = readKPlusOne(row);
        return {
          modelId: model.id,
          runId: run.runId,
          index,
          labelIndex: reading.labelIndex,
          label: classifier.classes[reading.labelIndex],
          confidence: reading.confidence,
          probabilities: reading.probabilities.map((probability, k) => ({ class: classifier.classes[k], probability })),
          generatedProbability: reading.generatedProbability,
        };
      });
      const labelCounts: Record<string, number> = {};
      for (const v of views) labelCounts[v.label] = (labelCounts[v.label] ?? 0) + 1;
      return { value: views, result: { images: views.length, labels: views.map((v) => v.label), labelCounts } };
    });
  }

  /** The model's classifier, or bad input naming the models that classify on this server. */
  private classifierOf(model: LoadedModel): Classifier {
    const classifying = this.registry
      .list()
      .filter((m) => m.manifest.classifier !== undefined && this.pool.hasClassifier(m.id))
      .map((m) => m.id);
    const others = `models that classify here: ${classifying.join(', ') || 'none'}`;
    const classifier = model.manifest.classifier;
    if (classifier === undefined) {
      throw badInput(`modelId: expected a model with a classifier (a semi-supervised K+1 model), got ${model.id}, which has none; ${others}`);
    }
    if (!this.pool.hasClassifier(model.id)) {
      throw badInput(`modelId: the classifier of ${model.id} could not be loaded on this server (see the server log); ${others}`);
    }
    return classifier;
  }
}
