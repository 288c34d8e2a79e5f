import type { InterpolationMethod } from './latent-math';

/** The latent operations' arguments, read by their GraphQL args (defaults, descriptions) and by LatentService. */
export const LATENT_LIMITS = {
  /** interpolate: images in the walk, endpoints included. */
  steps: { default: 8, min: 2, max: 64 },
  /** interpolate: SLERP is the right walk for Gaussian z. */
  method: { default: 'SLERP' as InterpolationMethod },
  /** latentArithmetic: terms of the sum. */
  terms: { min: 1, max: 16 },
  /** latentArithmetic: exemplars averaged into one concept. */
  exemplars: { min: 1, max: 32 },
  /** latentArithmetic: |coefficient| of a term. */
  coefficient: { max: 100 },
  /** latentArithmetic: scale of the uniform noise of each neighbour (the paper's 0.25). */
  noise: { default: 0.25, min: 0, max: 2 },
  /** latentArithmetic: noisy neighbours of the result (the paper's 8, a 3x3 box). */
  neighbours: { default: 8, min: 0, max: 24 },
} as const;
