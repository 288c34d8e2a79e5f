import type { LayerInfo } from '../models/layer-info';

/** One test image as an analysis shows it. */
export interface TestImageView {
  /** Position in the dataset's held-out 'test' split. */
  index: number;
  label: string;
  activation: number;
  png: Buffer;
  width: number;
  height: number;
  channels: number;
}

export interface ProbedNeuronView {
  neuron: number;
  accuracy: number;
  /** null when the best rule calls nothing the concept (no threshold beats that). */
  threshold: number | null;
  topImages: TestImageView[];
}

export interface NeuronProbeView {
  runId: string;
  modelId: string;
  layer: LayerInfo;
  concept: string;
  positives: number;
  negatives: number;
  neurons: ProbedNeuronView[];
}

export interface OptimalStimulusView {
  runId: string;
  modelId: string;
  layer: LayerInfo;
  neuron: number;
  activation: number;
  trace: number[];
  steps: number;
  stepSize: number;
  maxNorm: number;
  /** ||stimulus - c||_2, c the mean held-out test image. */
  norm: number;
  meanTestNorm: number;
  image: { png: Buffer; width: number; height: number; channels: number };
  maxTestActivation: number;
  /** The test image with maxTestActivation. */
  bestTestImage: TestImageView;
  /**
   * A dense unit with a saturating activation (sigmoid, tanh) is compared on its pre-activation,
   * where float32 does not round both the stimulus and the best test images to the activation's bound.
   */
  preActivation?: number;
  maxTestPreActivation?: number;
  exceedsEveryTestImage: boolean;
}

export interface ClassifierScoreView {
  accuracy: number;
  c: number;
  crossValidation: { c: number; accuracy: number }[];
  features: number;
}

export interface FeatureClassifierView {
  runId: string;
  modelId: string;
  layers: LayerInfo[];
  labelsPerClass: number;
  trainCount: number;
  testCount: number;
  features: ClassifierScoreView;
  rawPixels: ClassifierScoreView;
}

export interface NeuronProbeRequest {
  modelId: string;
  layer: string;
  concept: string;
  neurons?: number | null;
  topImages?: number | null;
  seed?: number | null;
}

export interface OptimalStimulusRequest {
  modelId: string;
  layer: string;
  neuron: number;
  steps?: number | null;
  stepSize?: number | null;
  maxNorm?: number | null;
  seed?: number | null;
}

export interface FeatureClassifierRequest {
  modelId: string;
  layers: readonly string[];
  labelsPerClass: number;
  seed?: number | null;
}
