import { SAMPLE_LIMITS } from '../../samples/sample.limits';

/** A field's arguments as the request gave them, its schema defaults filled in (see measureOperation). */
export type FieldArguments = Readonly<Record<string, unknown>>;

/** What one field does beyond resolving one value, read from its arguments. */
export interface FieldWork {
  /** Length of the list it returns: its selection costs this many times. */
  items?: (args: FieldArguments, maxSamplesPerField: number) => number;
  /** Images it generates (or classifies). */
  images?: (args: FieldArguments, maxSamplesPerField: number) => number;
  /** It runs a feature analysis (src/features), which reads a whole test split or generates hundreds of samples. */
  analysis?: true;
}

/** A count argument as given, or 0 when it is not a non-negative number (coercion refuses it later). */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Items of a list argument; GraphQL coerces a single value to a list of one. */
function lengthOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return value === undefined || value === null ? 0 : 1;
}

/** samples: its latents (a count that differs is refused), else count, else the default; at most the field's own limit, beyond which it refuses itself. */
function samplesOf(args: FieldArguments, maxSamplesPerField: number): number {
  const latents = lengthOf(args.latents);
  const asked =
    latents > 0 ? Math.max(latents, count(args.count)) : args.count === undefined || args.count === null ? SAMPLE_LIMITS.count.default : count(args.count);
  return Math.min(asked, maxSamplesPerField);
}

/** classify: one per image, at most the field's own limit, as samples. */
const imagesOf = (args: FieldArguments, maxSamplesPerField: number): number => Math.min(lengthOf(args.images), maxSamplesPerField);
const page = (args: FieldArguments): number => count(args.first);
const sampleIds = (args: FieldArguments): number => lengthOf(args.sampleIds);
const analysis: FieldWork = { analysis: true };

/**
 * The fields that return a list whose length their arguments set, generate images or run an analysis,
 * by schema coordinate. Defaults come from the schema (the args types), not from here.
 */
export const FIELD_WORK: Readonly<Record<string, FieldWork>> = {
  'Query.samples': { items: samplesOf, images: samplesOf },
  'Query.classify': { items: imagesOf, images: imagesOf },
  'Query.sample': { images: () => 1 },
  'Query.interpolate': { images: (args) => count(args.steps) },
  // The result, its noisy neighbours and one mean per term.
  'Query.latentArithmetic': { images: (args) => 1 + count(args.neighbours) + lengthOf(args.terms) },
  // One regenerated sample per id.
  'Query.nearestNeighbours': { items: sampleIds, images: sampleIds },
  'Query.runs': { items: page },
  'Model.runs': { items: page },
  'Query.evaluations': { items: page },
  'Query.neuronProbe': analysis,
  'Query.optimalStimulus': analysis,
  'Query.featureClassifier': analysis,
  'Query.conceptFilters': analysis,
};
