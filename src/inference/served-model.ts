import type * as tf from '@tensorflow/tfjs';
import { UnreachableCaseError } from '../errors/unreachable';
import type { PngFormat } from '../images/png';
import type { LoadedFeatureNetwork } from '../models/feature-network';
import { runClassifier } from './classifier';
import type { InferencePass, StimulusRequest, StimulusResult } from './executor';
import { runFeaturePass, runGeneratorWalk, type ActivationModels, type FilterRemoval, type LayerPass } from './layer-passes';
import { findOptimalStimulus } from './ops/optimal-stimulus';
import { releaseOnnxSessions, type OnnxSessions } from './onnx-sessions';
import { runGenerator } from './run-generator';

/** A model version as an executor holds it. */
export interface ServedModel {
  /** Absent on a model that only classifies. */
  generator?: tf.LayersModel;
  classifier?: tf.LayersModel;
  features?: LoadedFeatureNetwork;
  /** Sessions that compute generate (without filter removal) and classify on ONNX Runtime instead of tfjs. */
  onnx?: OnnxSessions;
}

/** What one batch computes, beyond its inputs. */
export interface BatchTask {
  pass: InferencePass;
  removal?: FilterRemoval;
  /** Generate on tfjs even when ONNX Runtime serves the generator (a sample regenerated on the engine that made it). */
  onTfjs?: boolean;
  /** pass 'generate' only: also encode each image as a PNG in this format, where it was computed. */
  png?: PngFormat;
  layerPass?: LayerPass;
}

/** One batch of `task` on `model`: shared by every executor, so in-process and worker results are computed alike. */
export function computeBatch(
  model: ServedModel,
  modelId: string,
  task: BatchTask,
  input: Float32Array,
  n: number,
  activations: ActivationModels,
): Promise<Float32Array> {
  switch (task.pass) {
    case 'generate': {
      if (task.removal === undefined || task.removal.filters.length === 0) {
        const onnx = task.onTfjs === true ? undefined : model.onnx?.generator;
        return onnx !== undefined ? onnx.run(input, n) : runGenerator(generatorOf(model, modelId), input, n);
      }
      return runGeneratorWalk(generatorOf(model, modelId), input, n, { layer: task.removal.layer, remove: task.removal.filters });
    }
    case 'classify':
      if (model.classifier === undefined) throw new Error(`executor: model ${modelId} has no classifier loaded`);
      return model.onnx?.classifier !== undefined ? model.onnx.classifier.run(input, n) : runClassifier(model.classifier, input, n);
    case 'layer': {
      const pass = task.layerPass;
      if (pass === undefined) throw new Error('executor: expected a layer pass with pass "layer", got none');
      if (pass.kind === 'generatorMeans') return runGeneratorWalk(generatorOf(model, modelId), input, n, { layer: pass.layer, means: true });
      return runFeaturePass(activations, featuresOf(model, modelId).network, pass, input, n);
    }
    default:
      throw new UnreachableCaseError(task.pass);
  }
}

/** Gradient ascent on one neuron of `model`'s feature network. */
export function computeStimulus(model: ServedModel, modelId: string, request: StimulusRequest, activations: ActivationModels): StimulusResult {
  const features = featuresOf(model, modelId);
  const { layer, neuron, steps, stepSize, maxNorm, seed, centre } = request;
  return findOptimalStimulus(activations.get(features.network, layer), neuron, {
    steps,
    stepSize,
    maxNorm,
    seed,
    inputRange: features.inputRange,
    ...(centre !== undefined ? { centre } : {}),
  });
}

export function disposeServedModel(model: ServedModel | undefined): void {
  model?.generator?.dispose();
  model?.classifier?.dispose();
  model?.features?.network.dispose();
  releaseOnnxSessions(model?.onnx);
}

function generatorOf(model: ServedModel, modelId: string): tf.LayersModel {
  if (model.generator === undefined) throw new Error(`executor: model ${modelId} has no generator`);
  return model.generator;
}

function featuresOf(model: ServedModel, modelId: string): LoadedFeatureNetwork {
  if (model.features === undefined) throw new Error(`executor: model ${modelId} has no feature network loaded`);
  return model.features;
}
