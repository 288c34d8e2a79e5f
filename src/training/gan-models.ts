import * as tf from '@tensorflow/tfjs';
import { createPrng, shuffledIndices } from '../data/prng';
import type { TrainingData } from '../data/training-data';
import { buildDiscriminator, buildGenerator, resolveDcganConfig } from '../models/dcgan';
import { buildKPlusOneDiscriminator, buildKPlusOneGenerator, resolveKPlusOneMlpConfig, type KPlusOneMlpConfig } from '../models/kplusone-mlp';
import { initWeightNorm, WeightNormDense } from '../models/layers/weight-norm-dense';
import { buildMlpDiscriminator, buildMlpGenerator, resolveMlpGanConfig } from '../models/mlp-gan';
import type { TrainingSpec } from './training-spec';

/** G and D of a GAN or K+1 run, as the spec builds them. */
export interface Models {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  /** Passed to the builders; recorded in the manifest. */
  architectureConfig: Record<string, number | string | boolean>;
  /** kplusone mlp: the config of the served classifier (D without its noise layers). */
  kPlusOneConfig?: KPlusOneMlpConfig;
}

/** Builds G and D for the spec's mode and architecture, with the weights seeded by spec.seed. */
export function buildModels(spec: TrainingSpec, classes: number): Models {
  const { latentSize, seed, techniques } = spec;
  const vbn = techniques.virtualBatchNorm;
  const mbd = techniques.minibatchDiscrimination;
  if (spec.architecture === 'dcgan') {
    const width = spec.filters === undefined ? {} : { generatorFilters: spec.filters, discriminatorFilters: spec.filters };
    const config = resolveDcganConfig({ latentSize, seed, ...width });
    const kPlusOne = spec.mode === 'kplusone' ? { classes } : {};
    return {
      generator: buildGenerator(config, { virtualBatchNorm: vbn }),
      discriminator: buildDiscriminator(config, { minibatchDiscrimination: mbd, ...kPlusOne }),
      architectureConfig: { ...config },
    };
  }
  if (spec.mode === 'kplusone') {
    const config = resolveKPlusOneMlpConfig({ latentSize, seed, classes });
    return {
      generator: buildKPlusOneGenerator(config, { virtualBatchNorm: vbn }),
      discriminator: buildKPlusOneDiscriminator(config),
      architectureConfig: {
        ...config,
        discriminatorUnits: config.discriminatorUnits.join('-'),
        generatorUnits: config.generatorUnits.join('-'),
      },
      kPlusOneConfig: config,
    };
  }
  // checkTrainingSpec rejects VBN and minibatch discrimination with the Goodfellow MLP GAN (no batchnorm, no flatten layer).
  const config = resolveMlpGanConfig({ latentSize, seed });
  return { generator: buildMlpGenerator(config), discriminator: buildMlpDiscriminator(config), architectureConfig: { ...config } };
}

/** Images of the data-dependent init of weight-normalised layers; 500 as in the paper's code. */
const WEIGHT_NORM_INIT_IMAGES = 500;

/**
 * Data-dependent init of D's weight-normalised layers (G's output layer keeps g = 1, as in the paper's code) (the K+1 MLP's)
 * on a seeded batch of `data` (the training images; the supervised baseline passes its labelled examples); a no-op for other models.
 */
export function initFromData(discriminator: tf.LayersModel, data: Pick<TrainingData, 'images' | 'count' | 'shape'>, seed: number): void {
  if (!discriminator.layers.some((l) => l instanceof WeightNormDense)) return;
  const n = Math.min(WEIGHT_NORM_INIT_IMAGES, data.count);
  const size = data.shape[0] * data.shape[1] * data.shape[2];
  const order = shuffledIndices(data.count, createPrng(seed * 7919 + 6));
  const images = new Float32Array(n * size);
  for (let i = 0; i < n; i++) images.set(data.images.subarray(order[i] * size, (order[i] + 1) * size), i * size);
  const batch = tf.tensor4d(images, [n, ...data.shape]);
  try {
    // Noise on, as the paper's code initialises: the unit variances then include the training noise.
    initWeightNorm(discriminator, batch, { noise: true });
  } finally {
    batch.dispose();
  }
}
