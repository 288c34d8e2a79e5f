import type { QueryLimits } from '../../config/config';
import { ErrorCode } from '../../errors/error-code';
import { GanqlError } from '../../errors/ganql-error';
import type { OperationMeasure } from './measure-operation';

/** How each limit reads in a refusal: what is counted, its limit, and the variable that sets it. */
const LIMITS = {
  depth: { limit: 'maxDepth', what: 'query depth', unit: 'levels of nested fields', env: 'GANQL_MAX_QUERY_DEPTH' },
  aliases: { limit: 'maxAliases', what: 'aliases', unit: 'aliased fields', env: 'GANQL_MAX_ALIASES' },
  rootFields: { limit: 'maxRootFields', what: 'root fields', unit: 'root fields', env: 'GANQL_MAX_ROOT_FIELDS' },
  cost: { limit: 'maxCost', what: 'query cost', unit: 'fields resolved, lists counted per item', env: 'GANQL_MAX_QUERY_COST' },
  images: { limit: 'maxImages', what: 'images per request', unit: 'images generated', env: 'GANQL_MAX_IMAGES_PER_REQUEST' },
  analyses: {
    limit: 'maxAnalyses',
    what: 'feature analyses per request',
    unit: 'of neuronProbe, optimalStimulus, featureClassifier and conceptFilters',
    env: 'GANQL_MAX_ANALYSES_PER_REQUEST',
  },
} as const satisfies Record<keyof OperationMeasure, { limit: keyof QueryLimits; what: string; unit: string; env: string }>;

export type MeasureName = keyof typeof LIMITS;

/** The first of `which` that the measure is over, as a QUERY_TOO_COMPLEX error naming it; undefined when all fit. */
export function checkLimits(measure: OperationMeasure, limits: QueryLimits, which: readonly MeasureName[]): GanqlError | undefined {
  for (const name of which) {
    const { limit, what, unit, env } = LIMITS[name];
    if (measure[name] > limits[limit]) {
      return new GanqlError(ErrorCode.QUERY_TOO_COMPLEX, `${what}: expected at most ${limits[limit]} ${unit} (${env}), got ${measure[name]}`);
    }
  }
  return undefined;
}
