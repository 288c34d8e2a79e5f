import { buildSchema, getIntrospectionQuery, Kind, parse, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGanqlSchema } from '../../../src/graphql/schema';
import { checkLimits } from '../../../src/server/query-limits/check-limits';
import { measureOperation, type Variables } from '../../../src/server/query-limits/measure-operation';

// The served schema: argument defaults (runs' first, interpolate's steps, ...) come from it.
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildGanqlSchema();
});

function measure(query: string, variables?: Variables) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return measureOperation(schema, document, operation, variables);
}

describe('measureOperation', () => {
  it('counts depth, aliases, root fields and cost of a plain query by hand', () => {
    // models: 1 + (id 1 + imageShape (1 + height 1)) = 4; serverInfo: 1 + pool (1 + items 1) = 3.
    expect(measure('{ models { id imageShape { height } } serverInfo { pool { items } } }')).toEqual({
      depth: 3,
      aliases: 0,
      rootFields: 2,
      cost: 7,
      images: 0,
      analyses: 0,
    });
  });

  it('multiplies a list by the length its arguments set', () => {
    // samples(count: 10): 1 + 10 x (id + image { dataUrl } = 3) = 31; 10 images.
    expect(measure('{ samples(count: 10) { id image { dataUrl } } }')).toMatchObject({ cost: 31, images: 10 });
    // runs defaults to first: 20: 1 + 20 x (edges 1 + node 1 + id 1) = 61.
    expect(measure('{ runs { edges { node { id } } } }')).toMatchObject({ depth: 4, cost: 61, images: 0 });
    expect(measure('{ runs(first: 2) { totalCount } }').cost).toBe(3);
  });

  it('counts images of every generating root field, literals and defaults', () => {
    const q = `{
      a: samples { id }
      b: samples(latents: [[0], [1], [2]]) { id }
      sample(id: "x") { id }
      interpolate(from: { sampleId: "x" }, to: { sampleId: "y" }) { runId }
      i2: interpolate(from: { sampleId: "x" }, to: { sampleId: "y" }, steps: 20) { runId }
      latentArithmetic(terms: [{ coefficient: 1, exemplars: [] }, { coefficient: -1, exemplars: [] }], neighbours: 4) { runId }
      nearestNeighbours(sampleIds: ["a", "b", "c", "d", "e"]) { distance }
    }`;
    // 1 + 3 + 1 + 8 + 20 + (1 + 4 + 2) + 5 = 45
    expect(measure(q)).toMatchObject({ images: 45, aliases: 3, rootFields: 7 });
  });

  it("takes argument defaults from the schema's args types, and field work by schema coordinate", () => {
    const small = buildSchema(`
      type Query { runs(first: Int = 3): RunConnection interpolate(steps: Int = 5): Interpolation evaluation: Evaluation }
      type RunConnection { totalCount: Int }
      type Interpolation { runId: ID samples: [Sample!]! }
      type Evaluation { samples: Int }
      type Sample { id: ID }`);
    const measureIn = (query: string) => {
      const document = parse(query);
      return measureOperation(small, document, document.definitions[0] as OperationDefinitionNode);
    };
    // runs: 1 + 3 x totalCount; interpolate: 5 images; Interpolation.samples is a plain list, not Query.samples.
    expect(measureIn('{ runs { totalCount } interpolate { samples { id } } evaluation { samples } }')).toMatchObject({ cost: 4 + 3 + 2, images: 5 });
    expect(measureIn('{ runs(first: 7) { totalCount } interpolate(steps: 2) { runId } }')).toMatchObject({ cost: 8 + 2, images: 2 });
  });

  it('reads variables, falling back to declared defaults', () => {
    const q =
      'query($n: Int = 7, $l: [[Float!]!], $ids: [ID!]!) { samples(count: $n) { id } b: samples(latents: $l) { id } nearestNeighbours(sampleIds: $ids) { distance } }';
    expect(measure(q, { ids: ['a', 'b'] }).images).toBe(7 + 1 + 2);
    expect(measure(q, { n: 100, l: [[0], [0], [0]], ids: 'a' }).images).toBe(100 + 3 + 1);
  });

  it('counts a samples field at most up to its own limit, which refuses it with a better message', () => {
    const q = '{ a: samples(count: 1000) { id } b: samples(latents: [[0], [0], [0]]) { id } }';
    expect(measure(q).images).toBe(1003);
    const document = parse(q);
    expect(measureOperation(schema, document, document.definitions[0] as OperationDefinitionNode, {}, 2)).toMatchObject({ images: 4, cost: 1 + 2 + 1 + 2 });
  });

  it('follows fragments and inline fragments, measuring each fragment once', () => {
    const q = `
      query { ...Root ... on Query { c: samples(count: 2) { id } } }
      fragment Root on Query { a: samples(count: 3) { ...S } b: samples(count: 4) { ...S } }
      fragment S on Sample { id run { id } }`;
    // a: 1 + 3 x 3, b: 1 + 4 x 3, c: 1 + 2 x 1
    expect(measure(q)).toEqual({ depth: 3, aliases: 3, rootFields: 3, cost: 10 + 13 + 3, images: 9, analyses: 0 });
  });

  it('stays linear on a fragment bomb and ends on a fragment cycle', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i + 1} on Query { ...F${i} x${i}: ...F${i} }`.replace(`x${i}: `, ''));
    const q = `{ ...F${levels} } fragment F0 on Query { a: models { id } } ${fragments.join(' ')}`;
    const m = measure(q);
    expect(m.aliases).toBe(2 ** levels);
    expect(m.rootFields).toBe(2 ** levels);
    expect(measure('{ ...A } fragment A on Query { models { id } ...B } fragment B on Query { ...A }')).toMatchObject({ rootFields: 1, cost: 2 });
  });
});

describe('checkLimits', () => {
  const limits = { maxDepth: 2, maxAliases: 1, maxRootFields: 5, maxCost: 100, maxImages: 10, maxAnalyses: 1 };

  it('names the limit, what is allowed and what came', () => {
    const m = measure('{ a: samples(count: 11) { id } b: models { id } }');
    expect(checkLimits(m, limits, ['depth', 'rootFields'])).toBeUndefined();
    expect(checkLimits(m, limits, ['aliases'])?.message).toBe('aliases: expected at most 1 aliased fields (GANQL_MAX_ALIASES), got 2');
    const images = checkLimits(m, limits, ['images']);
    expect(images?.code).toBe('QUERY_TOO_COMPLEX');
    expect(images?.message).toBe('images per request: expected at most 10 images generated (GANQL_MAX_IMAGES_PER_REQUEST), got 11');
    const two = measure(
      '{ a: neuronProbe(modelId: "m", layer: "l", concept: "0") { positives } ...F } fragment F on Query { conceptFilters(modelId: "m", layer: "g", concept: "8") { positiveFilters } }',
    );
    expect(two.analyses).toBe(2);
    expect(checkLimits(two, limits, ['analyses'])?.message).toBe(
      'feature analyses per request: expected at most 1 of neuronProbe, optimalStimulus, featureClassifier and conceptFilters (GANQL_MAX_ANALYSES_PER_REQUEST), got 2',
    );
    expect(measure('{ samples { id } models { id } }').analyses).toBe(0);
    expect(checkLimits(measure('{ runs { edges { node { id } } } }'), limits, ['depth'])?.message).toBe(
      'query depth: expected at most 2 levels of nested fields (GANQL_MAX_QUERY_DEPTH), got 4',
    );
  });
});

describe('introspection', () => {
  it('fits the default limits: ofType chains add no depth', () => {
    const document = parse(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
    const m = measureOperation(schema, document, operation);
    expect(m.depth).toBeLessThanOrEqual(8);
    expect(
      checkLimits(m, { maxDepth: 12, maxAliases: 32, maxRootFields: 16, maxCost: 10_000, maxImages: 256, maxAnalyses: 2 }, [
        'depth',
        'aliases',
        'rootFields',
        'cost',
        'images',
      ]),
    ).toBeUndefined();
  });
});
