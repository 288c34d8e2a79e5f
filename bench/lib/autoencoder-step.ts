import * as tf from '@tensorflow/tfjs';
import type { MnistData } from '../../src/data/mnist';
import { buildDecoder, buildEncoder } from '../../src/models/sparse-autoencoder';
import { autoencoderSetup } from '../../src/training/autoencoder-session';
import { AutoencoderTrainer } from '../../src/training/autoencoder-trainer';
import { runPeerStepBench, type PeerBenchOptions, type PeerBenchResult } from './peer-step-bench';

/**
 * The sparse denoising autoencoder step (Le et al. 2012's kind of feature learner at MNIST scale:
 * 784 -> noise -> 256 -> code, both sigmoid with the KL sparsity penalty, decoder 256 ReLU -> 784 tanh;
 * AutoencoderTrainer.trainStep with the networks and options of a training job, autoencoderSetup)
 * timed in tfjs and in PyTorch (bench/pytorch-autoencoder-step.py), and the first steps' losses of
 * both from the same initial weights, checked without the input noise (two libraries cannot draw the same).
 */

/** The run of the shipped mnist-autoencoder (docs/research.md): batch 100, Adam 0.003 / 0.9, a 16-unit code. */
const SPEC = { batchSize: 100, learningRate: 0.003, beta1: 0.9, latentSize: 16, seed: 42 };
/** MnistData's images are 28 x 28 x 1. */
const MNIST_SIDE = 28;

export function runAutoencoderBench(mnist: MnistData, options: PeerBenchOptions): PeerBenchResult {
  const { config, trainer: trainerOptions } = autoencoderSetup(SPEC, MNIST_SIDE);
  const { batchSize } = trainerOptions;
  const pixels = config.imageSize * config.imageSize;
  if (mnist.count < batchSize) throw new Error(`autoencoder bench: expected at least ${batchSize} MNIST images, got ${mnist.count}`);
  const images = mnist.images.subarray(0, batchSize * pixels);
  const batch = tf.tensor4d(images, [batchSize, config.imageSize, config.imageSize, 1]);
  const build = (inputNoise: number) => {
    const c = { ...config, inputNoise };
    const encoder = buildEncoder(c);
    const decoder = buildDecoder(c);
    const trainer = new AutoencoderTrainer(
      encoder,
      decoder,
      { images: mnist.images, count: mnist.count, shape: [config.imageSize, config.imageSize, 1] },
      trainerOptions,
    );
    return { encoder, decoder, trainer };
  };
  const timed = build(config.inputNoise);
  const checked = build(0);
  try {
    return runPeerStepBench(
      {
        name: 'autoencoder',
        script: 'pytorch-autoencoder-step.py',
        timed: { encoder: timed.encoder, decoder: timed.decoder },
        checked: { encoder: checked.encoder, decoder: checked.decoder },
        config: { architecture: config, trainer: trainerOptions, batchSize },
        files: { 'images.f32': images },
        checkStep: (i) => {
          const { reconstruction, sparsity } = checked.trainer.trainStep(batch, i);
          return { reconstruction, sparsity };
        },
        timedStep: (i) => timed.trainer.trainStep(batch, i),
      },
      options,
    );
  } finally {
    for (const m of [timed, checked]) {
      m.trainer.dispose();
      m.encoder.dispose();
      m.decoder.dispose();
    }
    batch.dispose();
  }
}
