import type { ConceptFiltersView } from '../../features/concept-filter.service';
import type { ClassifierScoreView, FeatureClassifierView, NeuronProbeView, OptimalStimulusView, TestImageView } from '../../features/feature-analysis.types';
import type { LayerInfo as LayerInfoView } from '../../models/layer-info';
import { pngDataUrl } from '../../images/png';
import type { Image } from '../common/image.type';
import type { ClassifierScore, ConceptFilters, FeatureClassifier, LayerInfo, NeuronProbe, OptimalStimulus, TestImage } from './features.type';

function toImage(image: { png: Buffer; width: number; height: number; channels: number }): Image {
  return { mimeType: 'image/png', width: image.width, height: image.height, channels: image.channels, dataUrl: pngDataUrl(image.png) };
}

export function toLayerInfo(layer: LayerInfoView): LayerInfo {
  return { name: layer.name, className: layer.className, outputShape: [...layer.outputShape], neurons: layer.neurons };
}

function toTestImage(view: TestImageView): TestImage {
  return { index: view.index, label: view.label, activation: view.activation, image: toImage(view) };
}

export function toNeuronProbe(view: NeuronProbeView): NeuronProbe {
  return {
    runId: view.runId,
    modelId: view.modelId,
    layer: toLayerInfo(view.layer),
    concept: view.concept,
    positives: view.positives,
    negatives: view.negatives,
    neurons: view.neurons.map((n) => ({ neuron: n.neuron, accuracy: n.accuracy, threshold: n.threshold, topImages: n.topImages.map(toTestImage) })),
  };
}

export function toOptimalStimulus(view: OptimalStimulusView): OptimalStimulus {
  return {
    runId: view.runId,
    modelId: view.modelId,
    layer: toLayerInfo(view.layer),
    neuron: view.neuron,
    image: toImage(view.image),
    activation: view.activation,
    trace: view.trace,
    steps: view.steps,
    stepSize: view.stepSize,
    maxNorm: view.maxNorm,
    norm: view.norm,
    meanTestNorm: view.meanTestNorm,
    maxTestActivation: view.maxTestActivation,
    bestTestImage: toTestImage(view.bestTestImage),
    preActivation: view.preActivation ?? null,
    maxTestPreActivation: view.maxTestPreActivation ?? null,
    exceedsEveryTestImage: view.exceedsEveryTestImage,
  };
}

function toClassifierScore(view: ClassifierScoreView): ClassifierScore {
  return { accuracy: view.accuracy, testError: 1 - view.accuracy, c: view.c, crossValidation: view.crossValidation, features: view.features };
}

export function toFeatureClassifier(view: FeatureClassifierView): FeatureClassifier {
  return {
    runId: view.runId,
    modelId: view.modelId,
    layers: view.layers.map(toLayerInfo),
    labelsPerClass: view.labelsPerClass,
    trainCount: view.trainCount,
    testCount: view.testCount,
    features: toClassifierScore(view.features),
    rawPixels: toClassifierScore(view.rawPixels),
  };
}

export function toConceptFilters(view: ConceptFiltersView): ConceptFilters {
  return {
    runId: view.runId,
    modelId: view.modelId,
    layer: toLayerInfo(view.layer),
    concept: view.concept,
    scorer: view.scorer,
    filters: view.filters.map((f) => ({ filter: f.filter, weight: f.weight })),
    positiveFilters: view.positiveFilters,
    c: view.c,
    samples: view.samples,
    conceptSamples: view.conceptSamples,
    check: view.check,
  };
}
