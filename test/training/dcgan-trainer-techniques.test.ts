import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { loadMnist } from '../../src/data/mnist';
import { buildDiscriminator, buildGenerator, type DiscriminatorVariant, type GeneratorVariant } from '../../src/models/dcgan';
import { DcganTrainer, resolveTrainerOptions, seededNoise, type DcganTrainerOptions, type Losses } from '../../src/training/dcgan-trainer';

const tiny = { generatorFilters: 8, discriminatorFilters: 8, latentSize: 16, seed: 5 };
const STEPS = 3;

async function run(
  options: Partial<DcganTrainerOptions>,
  variant: DiscriminatorVariant = {},
  gVariant: GeneratorVariant = {},
): Promise<{ losses: Losses[]; leaked: number; samples: Float32Array[][] }> {
  const data = loadMnist({ split: 'train', limit: 64 });
  const before = tf.memory().numTensors;
  const g = buildGenerator(tiny, gVariant);
  const d = buildDiscriminator(tiny, variant);
  const trainer = new DcganTrainer(g, d, { images: data.images, count: data.count, shape: [28, 28, 1] }, { batchSize: 16, seed: 1, ...options });
  const losses: Losses[] = [];
  await trainer.trainEpoch(0, (p) => losses.push(p.losses), STEPS);
  // Two generate() calls whose first example shares its noise: [a, b, c] and [a, d].
  const z = seededNoise(4, tiny.latentSize, 9);
  const a = z.slice(0, 16);
  const samples = [trainer.generate(z.slice(0, 48), 3), trainer.generate(Float32Array.from([...a, ...z.slice(48)]), 2)];
  trainer.dispose();
  g.dispose();
  d.dispose();
  return { losses, leaked: tf.memory().numTensors - before, samples };
}

function expectFinite(losses: Losses[]): void {
  expect(losses).toHaveLength(STEPS);
  for (const l of losses) {
    expect(Number.isFinite(l.generator)).toBe(true);
    expect(Number.isFinite(l.discriminator)).toBe(true);
  }
}

describe('DcganTrainer with the techniques of Salimans et al. 2016', () => {
  let off: Losses[];
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
    const plain = await run({});
    expect(plain.leaked).toBe(0);
    off = plain.losses;
  });

  it('one-sided label smoothing changes D loss from the first step', async () => {
    const { losses, leaked } = await run({ labelSmoothing: 0.9 });
    expectFinite(losses);
    expect(leaked).toBe(0);
    expect(losses[0].discriminator).not.toBe(off[0].discriminator);
    expect(losses.map((l) => l.discriminator)).not.toEqual(off.map((l) => l.discriminator));
  });

  it('feature matching replaces the G loss (small and >= 0) on the named D layer', async () => {
    const { losses, leaked } = await run({ featureMatching: { layer: 'd_flatten' } });
    expectFinite(losses);
    expect(leaked).toBe(0);
    // Same D loss at step 1 (D's update comes first), another G loss.
    expect(losses[0].discriminator).toBe(off[0].discriminator);
    expect(losses[0].generator).not.toBe(off[0].generator);
    for (const l of losses) expect(l.generator).toBeGreaterThanOrEqual(0);
  });

  it('historical averaging adds nothing at step 1 and changes later steps; its means are freed', async () => {
    const { losses, leaked } = await run({ historicalAveraging: { weight: 1 } });
    expectFinite(losses);
    expect(leaked).toBe(0);
    expect(losses[0]).toEqual(off[0]);
    expect(losses.slice(1)).not.toEqual(off.slice(1));
  });

  it('minibatch discrimination runs with the layer in D and changes the losses', async () => {
    const mbd = { kernels: 5, kernelDim: 3 };
    const { losses, leaked } = await run({ minibatchDiscrimination: mbd }, { minibatchDiscrimination: mbd });
    expectFinite(losses);
    expect(leaked).toBe(0);
    expect(losses[0].discriminator).not.toBe(off[0].discriminator);
  });

  it('virtual batch norm: G with VBN trains; a sample no longer depends on the rest of its batch', async () => {
    const vbn = { referenceSize: 8 };
    const { losses, leaked, samples } = await run({ virtualBatchNorm: vbn }, {}, { virtualBatchNorm: vbn });
    expectFinite(losses);
    expect(leaked).toBe(0);
    expect(losses[0].discriminator).not.toBe(off[0].discriminator);
    // generate() runs in inference mode, so this proves the reference rows are prepended and dropped;
    // the contrast with batchnorm in training mode is in techniques/virtual-batch-norm.test.ts.
    const [first, second] = samples.map((batch) => batch[0]);
    expect(Math.max(...first.map((v, i) => Math.abs(v - second[i])))).toBeLessThan(1e-5);
    const g = buildGenerator(tiny);
    const d = buildDiscriminator(tiny);
    const data = loadMnist({ limit: 32 });
    const images = { images: data.images, count: data.count, shape: [28, 28, 1] as [number, number, number] };
    expect(() => new DcganTrainer(g, d, images, { batchSize: 16, virtualBatchNorm: vbn })).toThrow(
      "virtualBatchNorm: expected the generator's VirtualBatchNormalization layers to have referenceSize=8 (buildGenerator(config, { virtualBatchNorm })), got none",
    );
    g.dispose();
    d.dispose();
  });

  it('all switches together run; the plain run repeats exactly', async () => {
    const mbd = { kernels: 5, kernelDim: 3 };
    const all = await run(
      { labelSmoothing: 0.9, featureMatching: { layer: 'd_minibatch' }, historicalAveraging: { weight: 0.1 }, minibatchDiscrimination: mbd },
      { minibatchDiscrimination: mbd },
    );
    expectFinite(all.losses);
    expect(all.leaked).toBe(0);
    expect((await run({})).losses).toEqual(off);
  });

  it('checks the switches where they enter', () => {
    expect(() => resolveTrainerOptions({ labelSmoothing: 0 })).toThrow('labelSmoothing: expected a real target in (0, 1], got 0');
    expect(() => resolveTrainerOptions({ historicalAveraging: { weight: -1 } })).toThrow('historicalAveraging.weight: expected a finite number > 0, got -1');
    expect(() => resolveTrainerOptions({ minibatchDiscrimination: { kernels: 2, kernelDim: 0 } })).toThrow(
      'minibatchDiscrimination.kernelDim: expected a positive integer, got 0',
    );
    expect(() => resolveTrainerOptions({ featureMatching: { layer: '' } })).toThrow('featureMatching.layer: expected a layer name, got ""');
    const data = loadMnist({ limit: 32 });
    const g = buildGenerator(tiny);
    const d = buildDiscriminator(tiny);
    const images = { images: data.images, count: data.count, shape: [28, 28, 1] as [number, number, number] };
    expect(() => new DcganTrainer(g, d, images, { batchSize: 16, featureMatching: { layer: 'd_nope' } })).toThrow(
      /featureMatching.layer: expected one of .*d_flatten.*, got "d_nope"/,
    );
    expect(() => new DcganTrainer(g, d, images, { batchSize: 16, minibatchDiscrimination: { kernels: 5, kernelDim: 3 } })).toThrow(
      'expected the discriminator to hold one MinibatchDiscrimination layer with kernels=5, kernelDim=3 (buildDiscriminator(config, { minibatchDiscrimination })), got none',
    );
    g.dispose();
    d.dispose();
  });
});
