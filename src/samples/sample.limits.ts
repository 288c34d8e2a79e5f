/**
 * The samples field's arguments, read by its GraphQL args, by SampleService and by the query-cost
 * measure. count's upper bound is a setting (GANQL_MAX_SAMPLES, config.maxSamplesPerRequest).
 */
export const SAMPLE_LIMITS = {
  /** Images to generate when neither count nor latents is given. */
  count: { default: 1, min: 1 },
} as const;
