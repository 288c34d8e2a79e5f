import type * as tf from '@tensorflow/tfjs';
import { loadLayersModel } from './io';
// Registers every ganql custom layer, so any feature network (a discriminator with minibatch
// discrimination, an encoder with seeded noise) deserialises here and in every worker.
import './layers/minibatch-discrimination';
import './layers/seeded-dropout';
import './layers/seeded-gaussian-noise';
import './layers/virtual-batch-norm';
import './layers/weight-norm-dense';
import type { ModelManifest } from './manifest';

/** Where a model's feature network is and what it reads; see featureNetworkOf. */
export interface FeatureNetwork {
  /** Folder (tfjs layers format) relative to the manifest's folder. */
  path: string;
  /** 'encoder': an autoencoder's (Le et al. 2012); 'discriminator': a GAN's D (Radford et al. 2015). */
  role: 'encoder' | 'discriminator';
  /** Pixel range its input expects. */
  inputRange: [number, number];
}

/** A feature network on disk, as an executor loads it. */
export interface FeatureNetworkSpec {
  /** Absolute folder of the network (model.json + weights.bin). */
  dir: string;
  /** Pixel range its input expects. */
  inputRange: [number, number];
}

/** A feature network as the analyses use it: the model as saved (differentiable, for gradient ascent) and its input range. */
export interface LoadedFeatureNetwork {
  network: tf.LayersModel;
  inputRange: [number, number];
}

/**
 * The network whose layers neuronProbe, optimalStimulus and featureClassifier read: the manifest's
 * featureNetwork, else its discriminator (which reads images in the generator's outputRange), else none.
 */
export function featureNetworkOf(manifest: ModelManifest): FeatureNetwork | undefined {
  if (manifest.featureNetwork !== undefined) return manifest.featureNetwork;
  if (manifest.discriminatorPath !== undefined) return { path: manifest.discriminatorPath, role: 'discriminator', inputRange: [...manifest.outputRange] };
  return undefined;
}

/** Loads a model's feature network; errors name the folder. */
export async function loadFeatureNetwork(spec: FeatureNetworkSpec): Promise<LoadedFeatureNetwork> {
  try {
    return { network: await loadLayersModel(spec.dir), inputRange: [...spec.inputRange] };
  } catch (error) {
    throw new Error(`feature network ${spec.dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
