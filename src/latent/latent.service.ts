import { createPrng } from '../data/prng';
import { badInput } from '../errors/ganql-error';
import { gridPng } from '../images/grid';
import type { GeneratingModel, LoadedModel, ModelRegistry } from '../models/model-registry';
import type { RunService } from '../runs/run.service';
import type { SampleService, SampleView } from '../samples/sample.service';
import { describe as show, expectFiniteVector, expectIntInRange } from '../validation/checks';
import { checkedSeed, randomSeed } from '../validation/seed';
import { combine, interpolate, mean, uniformNeighbour, type InterpolationMethod } from './latent-math';
import { LATENT_LIMITS } from './latent.limits';

/** A point in latent space: a stored sample's latent, or an explicit vector. Exactly one. */
export interface LatentRef {
  sampleId?: string | null;
  latent?: number[] | null;
}

export interface InterpolateRequest {
  modelId?: string | null;
  from: LatentRef;
  to: LatentRef;
  steps?: number | null;
  method?: InterpolationMethod | null;
}

export interface ConceptTerm {
  coefficient: number;
  exemplars: LatentRef[];
}

export interface ArithmeticRequest {
  modelId?: string | null;
  terms: ConceptTerm[];
  noise?: number | null;
  neighbours?: number | null;
  seed?: number | null;
}

export interface GridView {
  png: Buffer;
  width: number;
  height: number;
  channels: number;
}

export interface InterpolationView {
  runId: string;
  method: InterpolationMethod;
  samples: SampleView[];
  grid: GridView;
}

export interface ArithmeticView {
  runId: string;
  seed: number;
  result: SampleView;
  neighbours: SampleView[];
  concepts: { coefficient: number; exemplarCount: number; mean: SampleView }[];
  grid: GridView;
}

const GRID_PADDING = 2;

/** Latent walks and vector arithmetic (Radford et al. 2015, section 6), every image a stored sample. */
export class LatentService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly samples: SampleService,
    private readonly runs: RunService,
  ) {}

  interpolate(request: InterpolateRequest): Promise<InterpolationView> {
    const parameters = { ...request, from: summarise(request.from), to: summarise(request.to) };
    return this.runs.recordFinished({ kind: 'INTERPOLATE', modelId: request.modelId ?? undefined, parameters }, async (run) => {
      const model = this.registry.resolveGenerating(request.modelId);
      run.setModel(model.id);
      const steps = request.steps ?? LATENT_LIMITS.steps.default;
      expectIntInRange('steps', steps, LATENT_LIMITS.steps.min, LATENT_LIMITS.steps.max);
      const method = request.method ?? LATENT_LIMITS.method.default;
      const [from, to] = await this.resolve(model, [
        { ref: request.from, field: 'from' },
        { ref: request.to, field: 'to' },
      ]);
      const { views, store } = await this.samples.generateSamples(model, run.runId, interpolate(from, to, steps, method));
      const grid = this.grid(model, views, Math.min(steps, 16));
      return { value: { runId: run.runId, method, samples: views, grid }, result: { sampleIds: views.map((v) => v.id) }, alsoWrite: [store] };
    });
  }

  latentArithmetic(request: ArithmeticRequest): Promise<ArithmeticView> {
    const parameters = {
      ...request,
      terms: request.terms.map((t) => ({ coefficient: t.coefficient, exemplars: t.exemplars.map(summarise) })),
    };
    return this.runs.recordFinished({ kind: 'ARITHMETIC', modelId: request.modelId ?? undefined, parameters }, async (run) => {
      const model = this.registry.resolveGenerating(request.modelId);
      run.setModel(model.id);
      const { terms } = request;
      expectIntInRange('terms (number of terms)', terms.length, LATENT_LIMITS.terms.min, LATENT_LIMITS.terms.max);
      terms.forEach((term, i) => {
        if (!Number.isFinite(term.coefficient) || Math.abs(term.coefficient) > LATENT_LIMITS.coefficient.max) {
          throw badInput(
            `terms[${i}].coefficient: expected a finite number in -${LATENT_LIMITS.coefficient.max}..${LATENT_LIMITS.coefficient.max}, got ${show(term.coefficient)}`,
          );
        }
        expectIntInRange(`terms[${i}].exemplars (number of exemplars)`, term.exemplars.length, LATENT_LIMITS.exemplars.min, LATENT_LIMITS.exemplars.max);
      });
      const noise = request.noise ?? LATENT_LIMITS.noise.default;
      if (!Number.isFinite(noise) || noise < LATENT_LIMITS.noise.min || noise > LATENT_LIMITS.noise.max) {
        throw badInput(`noise: expected a number in ${LATENT_LIMITS.noise.min}..${LATENT_LIMITS.noise.max}, got ${show(noise)}`);
      }
      const neighbourCount = request.neighbours ?? LATENT_LIMITS.neighbours.default;
      expectIntInRange('neighbours', neighbourCount, LATENT_LIMITS.neighbours.min, LATENT_LIMITS.neighbours.max);
      const seed = checkedSeed('seed', request.seed ?? randomSeed());

      const exemplars = await this.resolve(
        model,
        terms.flatMap((term, i) => term.exemplars.map((ref, j) => ({ ref, field: `terms[${i}].exemplars[${j}]` }))),
      );
      let offset = 0;
      const means = terms.map((term) => mean(exemplars.slice(offset, (offset += term.exemplars.length))));
      const result = combine(
        terms.map((t) => t.coefficient),
        means,
      );
      const prng = createPrng(seed);
      const neighbours = Array.from({ length: neighbourCount }, () => uniformNeighbour(result, noise, prng));

      // One pass through the pool: result, its neighbours, then each concept's mean.
      const { views, store } = await this.samples.generateSamples(model, run.runId, [result, ...neighbours, ...means]);
      const [resultView, ...rest] = views;
      const neighbourViews = rest.slice(0, neighbourCount);
      const meanViews = rest.slice(neighbourCount);
      const value: ArithmeticView = {
        runId: run.runId,
        seed,
        result: resultView,
        neighbours: neighbourViews,
        concepts: terms.map((t, i) => ({ coefficient: t.coefficient, exemplarCount: t.exemplars.length, mean: meanViews[i] })),
        grid: this.grid(model, centred(resultView, neighbourViews), Math.ceil(Math.sqrt(neighbourCount + 1))),
      };
      return { value, result: { seed, sampleIds: views.map((v) => v.id) }, alsoWrite: [store] };
    });
  }

  /** Latents of refs in order; explicit latents are checked, sample ids looked up in one query. */
  private async resolve(model: GeneratingModel, refs: { ref: LatentRef; field: string }[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(refs.length);
    const lookups: { id: string; field: string; at: number }[] = [];
    refs.forEach(({ ref, field }, at) => {
      const hasId = ref.sampleId !== undefined && ref.sampleId !== null;
      const hasLatent = ref.latent !== undefined && ref.latent !== null;
      if (hasId === hasLatent) {
        throw badInput(`${field}: expected exactly one of sampleId or latent, got ${hasId ? 'both' : 'neither'}`);
      }
      if (hasLatent) out[at] = expectFiniteVector(`${field}.latent`, ref.latent!, model.manifest.latentSize);
      else lookups.push({ id: ref.sampleId!, field: `${field}.sampleId`, at });
    });
    const found = await this.samples.latentsOf(model, lookups);
    lookups.forEach((l, i) => (out[l.at] = found[i]));
    return out;
  }

  private grid(model: LoadedModel, views: SampleView[], columns: number): GridView {
    const [height, width, channels] = model.manifest.imageShape;
    const png = gridPng(
      views.map((v) => v.pixels),
      { width, height, channels: channels as 1 | 3, range: model.manifest.outputRange, columns, padding: GRID_PADDING },
    );
    const rows = Math.ceil(views.length / columns);
    return { png, width: columns * width + (columns + 1) * GRID_PADDING, height: rows * height + (rows + 1) * GRID_PADDING, channels };
  }
}

/** The result in the middle cell when the images fill an odd square (8 neighbours: a 3x3 box), else first. */
function centred(result: SampleView, neighbours: SampleView[]): SampleView[] {
  const side = Math.sqrt(neighbours.length + 1);
  if (!Number.isInteger(side) || side % 2 === 0) return [result, ...neighbours];
  const middle = (neighbours.length + 1 - 1) / 2;
  return [...neighbours.slice(0, middle), result, ...neighbours.slice(middle)];
}

/** A ref as recorded in a run's parameters: ids as they are, explicit latents by their length. */
function summarise(ref: LatentRef): unknown {
  if (ref.latent !== undefined && ref.latent !== null) return { latent: `${ref.latent.length} numbers` };
  return { sampleId: ref.sampleId ?? null };
}
