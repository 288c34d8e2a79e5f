/**
 * The evaluation operations' arguments, read by their GraphQL args (defaults, descriptions), by
 * EvaluationService, NearestNeighbourService and the eval CLI, and (through the schema) by the query-cost measure.
 */
export const EVALUATION_LIMITS = {
  /** evaluate: samples generated and scored (the paper's protocol: 50,000). */
  samples: { default: 10_000, min: 100, max: 50_000 },
  /** evaluate: seed of the latents, of the IS shuffle and of the KID subsets. */
  seed: { default: 0 },
  /** evaluate: Inception Score splits (the reference code: 10). */
  splits: { default: 10, min: 1, max: 50 },
  /** evaluations: page size. */
  first: { default: 20, min: 1, max: 100 },
  /** nearestNeighbours: stored sample ids (a grid of 8 x 8). */
  sampleIds: { min: 1, max: 64 },
} as const;
