/** What a run did. */
export const RUN_KINDS = ['SAMPLE', 'REGENERATE', 'INTERPOLATE', 'ARITHMETIC', 'EVALUATE', 'NEAREST_NEIGHBOURS', 'REQUEST'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** A run's life: RUNNING until it ends in one of the other three. */
export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'INTERRUPTED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
