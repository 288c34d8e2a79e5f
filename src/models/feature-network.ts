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

/**
 * The network whose layers neuronProbe, optimalStimulus and featureClassifier read: the manifest's
 * featureNetwork, else its discriminator (which reads images in the generator's outputRange), else none.
 */
export function featureNetworkOf(manifest: ModelManifest): FeatureNetwork | undefined {
  if (manifest.featureNetwork !== undefined) return manifest.featureNetwork;
  if (manifest.discriminatorPath !== undefined) return { path: manifest.discriminatorPath, role: 'discriminator', inputRange: [...manifest.outputRange] };
  return undefined;
}
