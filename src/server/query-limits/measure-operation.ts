import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromAST,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { FIELD_WORK, type FieldArguments } from './field-work';

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
   * Images the root fields generate: samples (count, or latents' length), sample(id) 1, interpolate
   * (steps), latentArithmetic (1 result + neighbours + 1 mean per term), nearestNeighbours (one
   * regenerated sample per id), classify (one per input image); an argument left out counts as its
   * default in the schema (samples' count, which has none there, as SAMPLE_LIMITS'). A samples or
   * classify field counts at most `maxSamplesPerField`: beyond it the field refuses itself
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

/** Argument values as the request gave them (JSON from the variables), before coercion. */
export type Variables = Readonly<Record<string, unknown>>;

interface Counts {
  depth: number;
  aliases: number;
  fields: number;
  cost: number;
  images: number;
  analyses: number;
}

const NOTHING: Counts = { depth: 0, aliases: 0, fields: 0, cost: 0, images: 0, analyses: 0 };

/**
 * Measures one operation of a document against the schema, following fragments (each fragment is
 * measured once, so fragments spread many times cost no more time; a fragment cycle counts as empty,
 * validation refuses it anyway). A field's arguments are its literals, its variables (else their
 * declared defaults), else the schema's defaults; what each field costs is in FIELD_WORK.
 */
export function measureOperation(
  schema: GraphQLSchema,
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
    values[name] = name in variables ? variables[name] : v.defaultValue ? valueFromASTUntyped(v.defaultValue) : undefined;
  }
  const memo = new Map<string, Counts>();
  const inProgress = new Set<string>();

  const selectionSet = (set: SelectionSetNode, parent: GraphQLNamedType | undefined): Counts => {
    const total: Counts = { ...NOTHING };
    const add = (c: Counts): void => {
      total.depth = Math.max(total.depth, c.depth);
      total.aliases += c.aliases;
      total.fields += c.fields;
      total.cost += c.cost;
      total.images += c.images;
      total.analyses += c.analyses;
    };
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) add(field(s, parent));
      else if (s.kind === Kind.INLINE_FRAGMENT)
        add(selectionSet(s.selectionSet, s.typeCondition ? (schema.getType(s.typeCondition.name.value) ?? undefined) : parent));
      else add(fragment(s.name.value));
    }
    return total;
  };

  const fragment = (name: string): Counts => {
    const known = memo.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition || inProgress.has(name)) return NOTHING;
    inProgress.add(name);
    const counts = selectionSet(definition.selectionSet, schema.getType(definition.typeCondition.name.value) ?? undefined);
    inProgress.delete(name);
    memo.set(name, counts);
    return counts;
  };

  const field = (node: FieldNode, parent: GraphQLNamedType | undefined): Counts => {
    // An unknown field (validation refuses it) is measured as one value with its selection.
    const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[node.name.value] : undefined;
    const inner = node.selectionSet ? selectionSet(node.selectionSet, definition && getNamedType(definition.type)) : NOTHING;
    const work = parent && definition ? FIELD_WORK[`${parent.name}.${definition.name}`] : undefined;
    const args = work && definition ? argumentValues(definition, node, values) : {};
    return {
      depth: (node.name.value === 'ofType' ? 0 : 1) + inner.depth,
      aliases: (node.alias ? 1 : 0) + inner.aliases,
      fields: 1,
      cost: 1 + (work?.items?.(args, maxSamplesPerField) ?? 1) * inner.cost,
      images: work?.images?.(args, maxSamplesPerField) ?? 0,
      analyses: (work?.analysis ? 1 : 0) + inner.analyses,
    };
  };

  const root = selectionSet(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
  return { depth: root.depth, aliases: root.aliases, rootFields: root.fields, cost: root.cost, images: root.images, analyses: root.analyses };
}

/**
 * A field's arguments as plain values: a literal as its type reads it, a variable as the request sent it,
 * an argument left out (or one that does not fit its type, which execution refuses) as its schema default.
 */
function argumentValues(definition: GraphQLField<unknown, unknown>, node: FieldNode, variables: Variables): FieldArguments {
  const given = new Map((node.arguments ?? []).map((a) => [a.name.value, a.value]));
  return Object.fromEntries(
    definition.args.map((arg) => {
      const value = given.get(arg.name);
      const read = value === undefined ? undefined : value.kind === Kind.VARIABLE ? variables[value.name.value] : valueFromAST(value, arg.type, variables);
      return [arg.name, read ?? arg.defaultValue];
    }),
  );
}
