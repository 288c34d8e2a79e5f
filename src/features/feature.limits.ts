/**
 * The feature analyses' arguments, read by their GraphQL args (descriptions) and by the analysis
 * services. The args leave them nullable: a default that depends on the model (conceptFilters' count,
 * optimalStimulus' stepSize) is the service's to pick.
 */
export const FEATURE_LIMITS = {
  neuronProbe: {
    /** Best neurons returned. */
    neurons: { default: 5, min: 1, max: 64 },
    /** Top-activating test images per neuron. */
    topImages: { default: 8, min: 1, max: 32 },
  },
  optimalStimulus: {
    /** Gradient-ascent steps. */
    steps: { default: 200, min: 1, max: 2000 },
    /** stepSize's default is maxNorm / this. */
    stepsPerMaxNorm: 20,
  },
  featureClassifier: {
    /** Layers concatenated. */
    layers: { min: 1, max: 8 },
    /** Labelled training examples per class (cross-validation needs 2). */
    labelsPerClass: { min: 2, max: 100 },
  },
  conceptFilters: {
    /** Filters returned (and removed in the check): at most the layer's filters, which is also the default for a smaller layer. */
    count: { default: 10, min: 1 },
    /** Generated samples the association is fitted on. */
    samples: { default: 500, min: 50, max: 2000 },
    /** Samples of the removal check. */
    checkSamples: { default: 200, min: 10, max: 1000 },
  },
} as const;
