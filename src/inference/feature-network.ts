import type * as tf from '@tensorflow/tfjs';
import { loadLayersModel } from '../models/io';
// Registers every ganql custom layer, so any feature network (a discriminator with minibatch
// discrimination, an encoder with seeded noise) deserialises here and in every worker.
import '../models/layers/minibatch-discrimination';
import '../models/layers/seeded-dropout';
import '../models/layers/seeded-gaussian-noise';
import '../models/layers/virtual-batch-norm';
import '../models/layers/weight-norm-dense';
import type { FeatureNetworkSpec } from './model-spec';

/** A feature network as the analyses use it: the model as saved (differentiable, for gradient ascent) and its input range. */
export interface LoadedFeatureNetwork {
  network: tf.LayersModel;
  inputRange: [number, number];
}

/** Loads a model's feature network; errors name the folder. */
export async function loadFeatureNetwork(spec: FeatureNetworkSpec): Promise<LoadedFeatureNetwork> {
  try {
    return { network: await loadLayersModel(spec.dir), inputRange: [...spec.inputRange] };
  } catch (error) {
    throw new Error(`feature network ${spec.dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
