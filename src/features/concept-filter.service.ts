import { badInput } from '../errors/ganql-error';
import type { DatasetCache } from '../evaluation/dataset-cache';
import type { ScorerCatalog, ScorerEntry } from '../evaluation/scorer-catalog';
import { scorerMisfit } from '../evaluation/scorer-fit';
import type { InferencePool } from '../inference/pool';
import type { LayerInfo } from '../models/layer-info';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';
import type { RunService } from '../runs/run.service';
import { seededLatents } from '../samples/latents';
import { expectIntInRange } from '../validation/checks';
import { checkedSeed, MAX_SEED } from '../validation/seed';
import { AnalysisData, conceptIndex, inChunks, layerNamed } from './analysis-inputs';
import type { ConceptFilterRunner } from './classifier-runner';
import type { ConceptFilter } from './concept-filters';
import { FEATURE_LIMITS } from './feature.limits';

/** What the scorer says about the check samples, generated with or without the removal. */
export interface ScorerReading {
  /** Mean over all the samples of the scorer's P(concept | image). */
  meanProbability: number;
  /** Fraction of the samples whose most probable class is the concept. */
  share: number;
  /** Mean P(concept) over the samples the scorer labels the concept when generated without removal (null: none). */
  conceptSampleProbability: number | null;
  /** The control: mean P(own label) over the other samples, each with the label it has without removal (null: none). */
  otherSampleProbability: number | null;
}

export interface ConceptFiltersView {
  runId: string;
  modelId: string;
  layer: LayerInfo;
  concept: string;
  scorer: string;
  filters: ConceptFilter[];
  /** Filters with a positive weight in all (DCGAN dropped every one of them). */
  positiveFilters: number;
  c: number;
  samples: number;
  /** Samples the scorer labelled the concept (the positives of the fit). */
  conceptSamples: number;
  check: { seed: number; samples: number; conceptSamples: number; before: ScorerReading; after: ScorerReading };
}

export interface ConceptFiltersRequest {
  modelId: string;
  layer: string;
  concept: string;
  count?: number | null;
  samples?: number | null;
  seed?: number | null;
  checkSamples?: number | null;
  checkSeed?: number | null;
  scorer?: string | null;
}

/**
 * DCGAN's filter-removal experiment (Radford et al. 2015, sec 6.3.1) with a scorer in place of
 * hand-drawn boxes: generate seeded samples, label each with the dataset's scorer (concept = its
 * most probable class), read each sample's generator-layer feature maps (spatial means) through
 * the pool, fit a linear classifier concept-vs-rest on them (concept-filters.ts) and return the
 * filters with the largest positive weights. Then, on samples of another seed, the scorer's mean
 * P(concept) with and without those filters zeroed (the same removal as samples(removeFilters)).
 */
export class ConceptFilterService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly runs: RunService,
    private readonly data: AnalysisData,
    private readonly scorers: ScorerCatalog,
    private readonly datasets: DatasetCache,
    private readonly findFilters: ConceptFilterRunner,
  ) {}

  conceptFilters(request: ConceptFiltersRequest): Promise<ConceptFiltersView> {
    return this.runs.record({ kind: 'CONCEPT_FILTERS', modelId: request.modelId, parameters: request }, async (run) => {
      const model = this.registry.getGenerating(request.modelId);
      run.setModel(model.id);
      const layer = layerNamed(model.generatorLayers, request.layer, 'layer', `the generator of ${model.id}`);
      const limits = FEATURE_LIMITS.conceptFilters;
      const count = request.count ?? Math.min(limits.count.default, layer.neurons);
      expectIntInRange('count', count, limits.count.min, layer.neurons);
      const samples = request.samples ?? limits.samples.default;
      expectIntInRange('samples', samples, limits.samples.min, limits.samples.max);
      const checkSamples = request.checkSamples ?? limits.checkSamples.default;
      expectIntInRange('checkSamples', checkSamples, limits.checkSamples.min, limits.checkSamples.max);
      const seed = checkedSeed('seed', request.seed);
      const checkSeed = checkedSeed('checkSeed', request.checkSeed, (seed + 1) % (MAX_SEED + 1));
      if (checkSeed === seed)
        throw badInput(`checkSeed: expected a seed other than seed (${seed}), so the removal is checked on samples it was not found on; got ${checkSeed}`);
      const scorerEntry = this.scorerFor(model, request.scorer);
      // scorerFor keeps only scorers of the model's dataset that fit it, so they have its classes.
      const concept = conceptIndex(this.data.classes(model), request.concept, model);

      const latents = seededLatents(seed, samples, model.manifest.latentSize);
      const images = await inChunks(latents, (chunk) => this.pool.generate(model.id, chunk));
      const labels = await this.scorerLabels(model, scorerEntry, images);
      const isConcept = labels.argmax.map((k) => k === concept);
      const conceptSamples = isConcept.filter(Boolean).length;
      if (conceptSamples === 0 || conceptSamples === samples) {
        throw badInput(
          `samples: expected generated samples both of concept ${JSON.stringify(request.concept)} and not, got ${conceptSamples} of ${samples} labelled it by scorer ${scorerEntry.name}; try more samples or another seed`,
        );
      }
      const activations = await inChunks(latents, (chunk) => this.pool.generatorActivations(model.id, layer.name, chunk));
      const association = await this.findFilters({ activations, isConcept, count, seed });

      const checkLatents = seededLatents(checkSeed, checkSamples, model.manifest.latentSize);
      const plain = await this.scorerLabels(model, scorerEntry, await inChunks(checkLatents, (chunk) => this.pool.generate(model.id, chunk)));
      const removal = { layer: layer.name, filters: association.filters.map((f) => f.filter) };
      const removed =
        association.filters.length > 0
          ? await this.scorerLabels(
              model,
              scorerEntry,
              await inChunks(checkLatents, (chunk) => this.pool.generate(model.id, chunk, { removeFilters: removal })),
            )
          : plain;
      const before = reading(plain.probabilities, plain.argmax, concept);
      const after = reading(removed.probabilities, plain.argmax, concept);
      const view: ConceptFiltersView = {
        runId: run.runId,
        modelId: model.id,
        layer,
        concept: request.concept,
        scorer: scorerEntry.name,
        filters: association.filters,
        positiveFilters: association.positive,
        c: association.c,
        samples,
        conceptSamples,
        check: { seed: checkSeed, samples: checkSamples, conceptSamples: plain.argmax.filter((k) => k === concept).length, before, after },
      };
      const result = {
        layer: layer.name,
        concept: request.concept,
        scorer: scorerEntry.name,
        filters: association.filters,
        positiveFilters: association.positive,
        conceptSamples,
        samples,
        check: view.check,
      };
      return { value: view, result };
    });
  }

  /** The named scorer if it fits the model, else the first that fits and was trained on the model's dataset. */
  private scorerFor(model: LoadedModel, name: string | null | undefined): ScorerEntry {
    const misfit = (s: ScorerEntry): string | undefined => scorerMisfit(s, model, (d) => this.datasets.dataset(d));
    const fitting = this.scorers.list().filter((s) => s.manifest.dataset === model.manifest.dataset && misfit(s) === undefined);
    const names = fitting.map((s) => s.name).join(', ') || 'none';
    if (name === undefined || name === null) {
      const scorer = fitting[0];
      if (scorer === undefined)
        throw badInput(`modelId: expected a model of a dataset with a scorer (models/scorers), got ${model.id} of ${JSON.stringify(model.manifest.dataset)}`);
      return scorer;
    }
    const scorer = fitting.find((s) => s.name === name);
    if (scorer === undefined) throw badInput(`scorer: expected a scorer of ${JSON.stringify(model.manifest.dataset)} (${names}), got ${JSON.stringify(name)}`);
    return scorer;
  }

  /** The scorer's class probabilities of generated images (in the model's output range), and each one's most probable class. */
  private async scorerLabels(
    model: LoadedModel,
    entry: ScorerEntry,
    images: readonly Float32Array[],
  ): Promise<{ probabilities: Float64Array[]; argmax: number[] }> {
    const { scorer } = await this.scorers.use(entry.name);
    const size = images[0].length;
    const batch = new Float32Array(images.length * size);
    images.forEach((image, i) => batch.set(image, i * size));
    const { probs } = await scorer.predict(batch, images.length, model.manifest.imageShape, { range: model.manifest.outputRange });
    const probabilities = Array.from({ length: probs.rows }, (_, i) => Float64Array.from(probs.data.subarray(i * probs.cols, (i + 1) * probs.cols)));
    return { probabilities, argmax: probabilities.map(argmax) };
  }
}

/** The scorer's probabilities of the check samples, read against `labels`, their labels without removal. */
function reading(probabilities: readonly Float64Array[], labels: readonly number[], concept: number): ScorerReading {
  let all = 0;
  let share = 0;
  const conceptMean = { sum: 0, n: 0 };
  const otherMean = { sum: 0, n: 0 };
  probabilities.forEach((p, i) => {
    all += p[concept];
    if (argmax(p) === concept) share++;
    const bucket = labels[i] === concept ? conceptMean : otherMean;
    bucket.sum += p[labels[i]];
    bucket.n++;
  });
  const mean = (b: { sum: number; n: number }): number | null => (b.n === 0 ? null : b.sum / b.n);
  return {
    meanProbability: all / probabilities.length,
    share: share / probabilities.length,
    conceptSampleProbability: mean(conceptMean),
    otherSampleProbability: mean(otherMean),
  };
}

/** The most probable class (the first of ties). */
function argmax(p: Float64Array): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}
