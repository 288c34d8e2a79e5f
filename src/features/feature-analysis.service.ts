import { badInput } from '../errors/ganql-error';
import { mapPixels, SIGNED_RANGE } from '../images/pixel-range';
import { encodePng } from '../images/png';
import type { InferencePool } from '../inference/pool';
import type { LayerInfo } from '../models/layer-info';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';
import type { RunService } from '../runs/run.service';
import { describe, expectIntInRange } from '../validation/checks';
import { checkedSeed } from '../validation/seed';
import { AnalysisData, conceptIndex, featureNetworkOf, imageOf, inChunks, layerNamed } from './analysis-inputs';
import type { ClassifierEvaluation } from './classifier-evaluation';
import type { ClassifierRunner } from './classifier-runner';
import { FEATURE_LIMITS } from './feature.limits';
import type {
  ClassifierScoreView,
  FeatureClassifierRequest,
  FeatureClassifierView,
  NeuronProbeRequest,
  NeuronProbeView,
  OptimalStimulusRequest,
  OptimalStimulusView,
  ProbedNeuronView,
} from './feature-analysis.types';
import { labelledChoice, stacked, type Stacked } from './labelled-rows';
import { concatenatedFeatures } from './max-pool-features';
import { balancedProbeSet, probeNeurons, topActivating } from './neuron-probe';
import { inputsOf, l2Distance, meanImage, pngChannels, testImageView } from './test-images';

/**
 * The feature analyses of Le et al. 2012 and Radford et al. 2015 on a model's feature network (its
 * discriminator or encoder): single-neuron concept detectors, optimal stimuli, and a linear
 * classifier on max-pooled features. Every forward pass goes through the shared pool; each call is
 * one run; bad input is a coded error and a FAILED run.
 */
export class FeatureAnalysisService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly runs: RunService,
    private readonly data: AnalysisData,
    private readonly classifiers: ClassifierRunner,
  ) {}

  /**
   * Le et al.'s test of a single neuron as a concept detector: positives = every held-out test image
   * of the concept, negatives = as many drawn (seeded) from the other classes; per neuron the
   * threshold with the best accuracy of "activation >= threshold means concept" on that balanced
   * set (chance 0.5). Returns the best neurons, with their top-activating test images (of all).
   */
  neuronProbe(request: NeuronProbeRequest): Promise<NeuronProbeView> {
    return this.runs.record({ kind: 'NEURON_PROBE', modelId: request.modelId, parameters: request }, async (run) => {
      const { model, layer, network } = this.featureLayer(request.modelId, request.layer);
      run.setModel(model.id);
      const limits = FEATURE_LIMITS.neuronProbe;
      const count = request.neurons ?? limits.neurons.default;
      expectIntInRange('neurons', count, limits.neurons.min, limits.neurons.max);
      const top = request.topImages ?? limits.topImages.default;
      expectIntInRange('topImages', top, limits.topImages.min, limits.topImages.max);
      const seed = checkedSeed('seed', request.seed);
      const test = await this.data.split(model, 'test');
      const concept = conceptIndex(test.classes, request.concept, model);

      const images = inputsOf(test, network.inputRange);
      const activations = await inChunks(images, (chunk) => this.pool.neuronActivations(model.id, layer.name, chunk));
      const probe = balancedProbeSet(test.labels, concept, seed);
      const scores = probeNeurons(
        Array.from(probe.indices, (i) => activations[i]),
        probe.isPositive,
      );
      const neurons = scores.slice(0, count).map((s): ProbedNeuronView => ({
        neuron: s.neuron,
        accuracy: s.accuracy,
        threshold: Number.isFinite(s.threshold) ? s.threshold : null,
        topImages: topActivating(activations, s.neuron, top).map((t) => testImageView(test, t.index, t.activation)),
      }));
      const view: NeuronProbeView = {
        runId: run.runId,
        modelId: model.id,
        layer,
        concept: request.concept,
        positives: probe.positives,
        negatives: probe.indices.length - probe.positives,
        neurons,
      };
      const result = {
        layer: layer.name,
        concept: request.concept,
        positives: view.positives,
        negatives: view.negatives,
        best: neurons.map((n) => ({ neuron: n.neuron, accuracy: n.accuracy, threshold: n.threshold, topImages: n.topImages.map((t) => t.index) })),
      };
      return { value: view, result };
    });
  }

  /**
   * The input that maximises one neuron (Le et al. sec 4.4) by projected, normalised gradient ascent
   * (findOptimalStimulus) on a worker of the pool, with ||x - c||_2 <= maxNorm, c the mean held-out
   * test image, and pixels in the feature network's input range. maxNorm defaults to the mean of the
   * same norm over the held-out test images, so the comparison with them is fair: the result says
   * whether the stimulus activates the neuron more than every test image.
   */
  optimalStimulus(request: OptimalStimulusRequest): Promise<OptimalStimulusView> {
    return this.runs.record({ kind: 'OPTIMAL_STIMULUS', modelId: request.modelId, parameters: request }, async (run) => {
      const { model, layer, network } = this.featureLayer(request.modelId, request.layer);
      run.setModel(model.id);
      expectIntInRange('neuron', request.neuron, 0, layer.neurons - 1);
      const limits = FEATURE_LIMITS.optimalStimulus;
      const steps = request.steps ?? limits.steps.default;
      expectIntInRange('steps', steps, limits.steps.min, limits.steps.max);
      const seed = checkedSeed('seed', request.seed);
      const test = await this.data.split(model, 'test');
      const range = network.inputRange;
      const images = inputsOf(test, range);
      // Norms are measured from the mean test image, as Le et al. bounded the norm of zero-mean inputs:
      // measured from the range's centre instead, MNIST's dark background alone would fill the budget.
      const centre = meanImage(images);
      let normSum = 0;
      for (const image of images) normSum += l2Distance(image, centre);
      const meanTestNorm = normSum / images.length;
      const maxNorm = request.maxNorm ?? meanTestNorm;
      if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw badInput(`maxNorm: expected a number > 0, got ${describe(maxNorm)}`);
      const stepSize = request.stepSize ?? maxNorm / limits.stepsPerMaxNorm;
      if (!(Number.isFinite(stepSize) && stepSize > 0 && stepSize <= maxNorm)) {
        throw badInput(`stepSize: expected a number in (0, maxNorm = ${maxNorm}], got ${describe(stepSize)}`);
      }

      const stimulus = await this.pool.optimalStimulus(model.id, { layer: layer.name, neuron: request.neuron, steps, stepSize, maxNorm, seed, centre });
      const activations = await inChunks(images, (chunk) => this.pool.neuronActivations(model.id, layer.name, chunk));
      const [best] = topActivating(activations, request.neuron, 1);
      const saturating = stimulus.preActivation !== undefined;
      const pre = saturating ? await inChunks(images, (chunk) => this.pool.preActivations(model.id, layer.name, chunk)) : [];
      const [bestPre] = saturating ? topActivating(pre, request.neuron, 1) : [];
      const exceeds =
        stimulus.preActivation !== undefined && bestPre !== undefined
          ? stimulus.preActivation > bestPre.activation && stimulus.activation >= best.activation
          : stimulus.activation > best.activation;
      const [height, width, channels] = model.manifest.imageShape;
      const view: OptimalStimulusView = {
        runId: run.runId,
        modelId: model.id,
        layer,
        neuron: request.neuron,
        activation: stimulus.activation,
        trace: stimulus.trace,
        steps,
        stepSize,
        maxNorm,
        norm: l2Distance(stimulus.image, centre),
        meanTestNorm,
        image: { png: encodePng(stimulus.image, width, height, pngChannels(channels), range), width, height, channels },
        maxTestActivation: best.activation,
        bestTestImage: testImageView(test, best.index, best.activation),
        ...(stimulus.preActivation !== undefined && bestPre !== undefined
          ? { preActivation: stimulus.preActivation, maxTestPreActivation: bestPre.activation }
          : {}),
        exceedsEveryTestImage: exceeds,
      };
      const result = {
        layer: layer.name,
        neuron: request.neuron,
        activation: view.activation,
        maxTestActivation: view.maxTestActivation,
        preActivation: view.preActivation,
        maxTestPreActivation: view.maxTestPreActivation,
        bestTestImage: best.index,
        exceedsEveryTestImage: view.exceedsEveryTestImage,
        maxNorm,
        norm: view.norm,
        steps,
        stepSize,
      };
      return { value: view, result };
    });
  }

  /**
   * DCGAN's feature evaluation (Radford et al. 2015, sec 5.1): each chosen layer's output max-pooled
   * to a 4x4 grid per feature map (maxPoolFeatures), concatenated, then a linear classifier (one-vs-rest
   * L2-SVM, C by 5-fold cross-validation; linear-classifier.ts) fitted on `labelsPerClass` labelled
   * 'train' images per class (seeded choice) and scored on the held-out 'test' split. The same
   * classifier on the raw pixels of the same labelled images is the baseline.
   */
  featureClassifier(request: FeatureClassifierRequest): Promise<FeatureClassifierView> {
    return this.runs.record({ kind: 'FEATURE_CLASSIFIER', modelId: request.modelId, parameters: request }, async (run) => {
      const model = this.registry.resolve(request.modelId);
      run.setModel(model.id);
      const network = featureNetworkOf(model, this.registry, this.pool);
      const names = request.layers;
      const limits = FEATURE_LIMITS.featureClassifier;
      if (names.length < limits.layers.min || names.length > limits.layers.max) {
        throw badInput(`layers: expected ${limits.layers.min}..${limits.layers.max} layer names, got ${names.length}`);
      }
      const layers = names.map((name, i) => layerNamed(network.layers, name, `layers[${i}]`, `the feature network of ${model.id}`));
      const repeated = names.find((name, i) => names.indexOf(name) !== i);
      if (repeated !== undefined) throw badInput(`layers: expected distinct layers, got ${JSON.stringify(repeated)} twice`);
      expectIntInRange('labelsPerClass', request.labelsPerClass, limits.labelsPerClass.min, limits.labelsPerClass.max);
      const seed = checkedSeed('seed', request.seed);
      const [train, test] = await Promise.all([this.data.split(model, 'train'), this.data.split(model, 'test')]);
      const chosen = labelledChoice(train, request.labelsPerClass, seed);

      const range = network.inputRange;
      const trainImages = Array.from(chosen, (i) => imageOf(train, i));
      const testImages = Array.from({ length: test.count }, (_, i) => imageOf(test, i));
      const trainLabels = Uint8Array.from(chosen, (i) => train.labels[i]);
      const testLabels = Uint8Array.from(test.labels);
      const trainFeatures = await this.pooledFeatures(
        model,
        layers,
        trainImages.map((x) => mapPixels(x, SIGNED_RANGE, range)),
      );
      const testFeatures = await this.pooledFeatures(model, layers, inputsOf(test, range));
      const [features, rawPixels] = await this.classifiers([
        { train: trainFeatures.withLabels(trainLabels), test: testFeatures.withLabels(testLabels), classes: train.classes.length, seed },
        {
          train: stacked(trainImages).withLabels(Uint8Array.from(trainLabels)),
          test: stacked(testImages).withLabels(Uint8Array.from(testLabels)),
          classes: train.classes.length,
          seed,
        },
      ]);
      const view: FeatureClassifierView = {
        runId: run.runId,
        modelId: model.id,
        layers,
        labelsPerClass: request.labelsPerClass,
        trainCount: chosen.length,
        testCount: test.count,
        features: scoreView(features),
        rawPixels: scoreView(rawPixels),
      };
      const result = {
        layers: names,
        labelsPerClass: request.labelsPerClass,
        trainCount: view.trainCount,
        testCount: view.testCount,
        features: view.features,
        rawPixels: view.rawPixels,
      };
      return { value: view, result };
    });
  }

  private featureLayer(modelId: string, name: string): { model: LoadedModel; layer: LayerInfo; network: ReturnType<typeof featureNetworkOf> } {
    const model = this.registry.resolve(modelId);
    const network = featureNetworkOf(model, this.registry, this.pool);
    return { model, network, layer: layerNamed(network.layers, name, 'layer', `the feature network of ${model.id}`) };
  }

  /**
   * Each image's layers read through the pool, each max-pooled, concatenated: one row per image.
   * Chunk by chunk, so only one chunk's full layer outputs (6,272 values per image for a 14x14x32
   * map) are held at a time.
   */
  private async pooledFeatures(model: LoadedModel, layers: readonly LayerInfo[], images: readonly Float32Array[]): Promise<Stacked> {
    const rows = await inChunks(images, async (chunk) => {
      const perLayer = await Promise.all(layers.map((layer) => this.pool.featureActivations(model.id, layer.name, chunk)));
      return chunk.map((_, i) => concatenatedFeatures(layers.map((layer, k) => ({ values: perLayer[k][i], shape: layer.outputShape }))));
    });
    return stacked(rows);
  }
}

function scoreView(e: ClassifierEvaluation): ClassifierScoreView {
  return { accuracy: e.accuracy, c: e.c, crossValidation: e.crossValidation, features: e.features };
}
