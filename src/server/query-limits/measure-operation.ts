import { Kind, type ArgumentNode, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';

/** What one operation asks for, measured on its document before any resolver runs. */
export interface OperationMeasure {
  /**
   * Deepest field nesting; a root field is depth 1. Introspection's `ofType` does not add depth:
   * the standard introspection query nests it 7 deep by design, and each is one object, not a list.
   */
  depth: number;
  /** Aliased fields, counted once per place a fragment is spread. */
  aliases: number;
  /** Fields selected at the root of the operation. */
  rootFields: number;
  /**
   * Fields resolved: each field costs 1, and a field returning a list whose length its arguments
   * set (samples: count or latents; classify: images; runs, evaluations: first; nearestNeighbours: sampleIds) costs
   * 1 + length x the cost of its selection. Other lists count their selection once.
   */
  cost: number;
  /**
   * Images the root fields generate: samples (count, or latents' length; default 1), sample(id) 1,
   * interpolate (steps, default 8), latentArithmetic (1 result + neighbours (default 8) + 1 mean per
   * term), nearestNeighbours (one regenerated sample per id), classify (one per input image). A
   * samples or classify field counts at most `maxSamplesPerField`: beyond it the field refuses itself
   * (BAD_USER_INPUT, a SAMPLE or CLASSIFY run), which says more than a request-wide refusal.
   */
  images: number;
  /**
   * Feature analyses among the fields (neuronProbe, optimalStimulus, featureClassifier,
   * conceptFilters): each reads a whole test split or generates hundreds of samples, within the
   * limits of its own arguments, so a request may hold only a few of them.
   */
  analyses: number;
}

/** Root fields that run a feature analysis (src/features). */
const ANALYSES = new Set(['neuronProbe', 'optimalStimulus', 'featureClassifier', 'conceptFilters']);

/** Argument values as the request gave them (JSON from the variables), before coercion. */
export type Variables = Readonly<Record<string, unknown>>;

const RUNS_FIRST_DEFAULT = 20;
const INTERPOLATE_STEPS_DEFAULT = 8;
const ARITHMETIC_NEIGHBOURS_DEFAULT = 8;

interface Counts {
  depth: number;
  aliases: number;
  fields: number;
  cost: number;
  images: number;
  analyses: number;
}

/**
 * Measures one operation of a document, following fragments (each fragment is measured once, so
 * fragments spread many times cost no more time; a fragment cycle counts as empty, validation
 * refuses it anyway). Variables fill in arguments given as `$name`, else their declared defaults.
 */
export function measureOperation(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Variables = {},
  maxSamplesPerField = Number.POSITIVE_INFINITY,
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const values: Record<string, unknown> = {};
  for (const v of operation.variableDefinitions ?? []) {
    const name = v.variable.name.value;
    values[name] = name in variables ? variables[name] : v.defaultValue ? valueOf(v.defaultValue, {}) : undefined;
  }
  const memo = new Map<string, Counts>();
  const inProgress = new Set<string>();

  const selectionSet = (set: SelectionSetNode): Counts => {
    const total: Counts = { depth: 0, aliases: 0, fields: 0, cost: 0, images: 0, analyses: 0 };
    const add = (c: Counts): void => {
      total.depth = Math.max(total.depth, c.depth);
      total.aliases += c.aliases;
      total.fields += c.fields;
      total.cost += c.cost;
      total.images += c.images;
      total.analyses += c.analyses;
    };
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) add(field(s));
      else if (s.kind === Kind.INLINE_FRAGMENT) add(selectionSet(s.selectionSet));
      else add(fragment(s.name.value));
    }
    return total;
  };

  const fragment = (name: string): Counts => {
    const known = memo.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition || inProgress.has(name)) return { depth: 0, aliases: 0, fields: 0, cost: 0, images: 0, analyses: 0 };
    inProgress.add(name);
    const counts = selectionSet(definition.selectionSet);
    inProgress.delete(name);
    memo.set(name, counts);
    return counts;
  };

  const field = (node: FieldNode): Counts => {
    const inner = node.selectionSet ? selectionSet(node.selectionSet) : undefined;
    const args = argumentValues(node.arguments ?? [], values);
    const samples = Math.min(node.name.value === 'classify' ? lengthOf(args.images) : samplesCount(args), maxSamplesPerField);
    return {
      depth: (node.name.value === 'ofType' ? 0 : 1) + (inner?.depth ?? 0),
      aliases: (node.alias ? 1 : 0) + (inner?.aliases ?? 0),
      fields: 1,
      cost: 1 + listLength(node.name.value, args, samples) * (inner?.cost ?? 0),
      images: imagesOf(node.name.value, args, samples),
      analyses: (ANALYSES.has(node.name.value) ? 1 : 0) + (inner?.analyses ?? 0),
    };
  };

  const root = selectionSet(operation.selectionSet);
  return { depth: root.depth, aliases: root.aliases, rootFields: root.fields, cost: root.cost, images: root.images, analyses: root.analyses };
}

function argumentValues(nodes: readonly ArgumentNode[], variables: Variables): Record<string, unknown> {
  return Object.fromEntries(nodes.map((a) => [a.name.value, valueOf(a.value, variables)]));
}

/** A literal or variable as plain JSON; enums and strings stay strings. */
function valueOf(node: ValueNode, variables: Variables): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.LIST:
      return node.values.map((v) => valueOf(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, valueOf(f.value, variables)]));
    case Kind.NULL:
      return null;
    default:
      return 'value' in node ? node.value : undefined;
  }
}

/** A count argument as given, or the fallback when absent or not a non-negative number (coercion refuses those later). */
function countOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Items of a list argument; GraphQL coerces a single value to a list of one. */
function lengthOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return value === undefined || value === null ? 0 : 1;
}

function samplesCount(args: Record<string, unknown>): number {
  const latents = lengthOf(args.latents);
  return latents > 0 ? Math.max(latents, countOr(args.count, 0)) : countOr(args.count, 1);
}

/** `samples` is the samples field's count (classify's: its images), already bounded. */
function listLength(name: string, args: Record<string, unknown>, samples: number): number {
  switch (name) {
    case 'samples':
    case 'classify':
      return samples;
    case 'runs':
    case 'evaluations':
      return countOr(args.first, RUNS_FIRST_DEFAULT);
    case 'nearestNeighbours':
      return lengthOf(args.sampleIds);
    default:
      return 1;
  }
}

function imagesOf(name: string, args: Record<string, unknown>, samples: number): number {
  switch (name) {
    case 'samples':
    case 'classify':
      return samples;
    case 'sample':
      return 1;
    case 'interpolate':
      return countOr(args.steps, INTERPOLATE_STEPS_DEFAULT);
    case 'latentArithmetic':
      return 1 + countOr(args.neighbours, ARITHMETIC_NEIGHBOURS_DEFAULT) + lengthOf(args.terms);
    case 'nearestNeighbours':
      return lengthOf(args.sampleIds);
    default:
      return 0;
  }
}
