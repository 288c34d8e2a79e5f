/** What a run did. */
export const RUN_KINDS = [
  'SAMPLE',
  'REGENERATE',
  'INTERPOLATE',
  'ARITHMETIC',
  'EVALUATE',
  'NEAREST_NEIGHBOURS',
  'TRAIN',
  'CLASSIFY',
  'REQUEST',
  'NEURON_PROBE',
  'OPTIMAL_STIMULUS',
  'FEATURE_CLASSIFIER',
  'CONCEPT_FILTERS',
  // Model management (src/model-admin): each change of an alias or of a version's archive state.
  'SET_MODEL_ALIAS',
  'DELETE_MODEL_ALIAS',
  'ARCHIVE_MODEL',
  'UNARCHIVE_MODEL',
] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A run's life: RUNNING until it ends in one of the others (CANCELLED: stopped on request, e.g. cancelTraining). */
export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
