import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { parseManifest } from '../../src/models/manifest';
import { loadLayersModel } from '../../src/models/io';
import { loadServedGenerator } from '../../src/models/served-generator';
import { commandLine, parseTrainArgs, runTraining } from '../../src/training/train.cli';
import { checkTrainingSpec } from '../../src/training/training-spec';
import { planSteps, type TrainStep } from '../../scripts/lib/reproduce/plan';

const base = ['--model', 'dcgan', '--dataset', 'mnist', '--epochs', '2', '--batch-size', '16', '--seed', '7', '--out', 'x'];

describe('train CLI arguments', () => {
  it('builds a checked spec with the documented defaults', () => {
    expect(parseTrainArgs(base)).toEqual({
      spec: {
        mode: 'gan',
        architecture: 'dcgan',
        dataset: 'mnist',
        epochs: 2,
        batchSize: 16,
        seed: 7,
        learningRate: 0.0002,
        beta1: 0.5,
        k: 1,
        latentSize: 100,
        generatorLoss: 'non-saturating',
        techniques: {},
      },
      out: 'x',
      name: 'x',
      resume: false,
      // One native thread per core, at most 8.
      threads: Math.min(8, os.availableParallelism()),
      scorersDir: 'models/scorers',
    });
    const more = parseTrainArgs([
      ...base,
      '--lr',
      '0.001',
      '--beta1=0.9',
      '--k',
      '2',
      '--latent-size',
      '64',
      '--limit',
      '500',
      '--loss',
      'minimax',
      '--keep-every',
      '1',
      '--name',
      'n',
    ]);
    expect(more.spec).toMatchObject({ learningRate: 0.001, beta1: 0.9, k: 2, latentSize: 64, limit: 500, generatorLoss: 'minimax', keepEvery: 1 });
    expect(more.name).toBe('n');
    expect(parseTrainArgs([...base, '--threads', '0']).threads).toBe(0);
    expect(() => parseTrainArgs([...base, '--threads', '1.5'])).toThrow('--threads: expected an integer in 0..64, got 1.5');
    const kPlusOne = parseTrainArgs([
      '--mode',
      'kplusone',
      '--model',
      'mlp',
      '--labels-per-class',
      '10',
      '--feature-matching',
      'd_hidden5',
      '--epochs',
      '3',
      '--out',
      'k',
      '--fine-tune-from',
      'models/x',
    ]);
    expect(kPlusOne.spec).toMatchObject({ mode: 'kplusone', architecture: 'mlp', labelsPerClass: 10, techniques: { featureMatching: { layer: 'd_hidden5' } } });
    expect(kPlusOne.spec.techniques.featureMatching?.batch).toBeUndefined();
    expect(kPlusOne.fineTuneFrom).toBe(path.resolve('models/x'));
    const kPlusOneArgs = ['--mode', 'kplusone', '--labels-per-class', '10', '--feature-matching', 'd_hidden5', '--epochs', '3', '--out', 'k'];
    expect(parseTrainArgs([...kPlusOneArgs, '--feature-matching-batch', 'separate']).spec.techniques.featureMatching).toEqual({
      layer: 'd_hidden5',
      batch: 'separate',
    });
    expect(() => parseTrainArgs([...kPlusOneArgs, '--feature-matching-batch', 'other'])).toThrow(
      'techniques.featureMatching.batch: expected one of step, separate, got "other"',
    );
    expect(() => parseTrainArgs([...base, '--feature-matching-batch', 'separate'])).toThrow(
      '--feature-matching-batch: expected --feature-matching with it, got none',
    );
    expect(() => parseTrainArgs([...base, '--feature-matching', 'd_flatten', '--feature-matching-batch', 'separate'])).toThrow(
      `techniques.featureMatching.batch: expected it only in kplusone mode (gan mode matches D's own real batch), got "separate"`,
    );
  });

  it("says what it expected and what it got, with checkTrainingSpec's messages", () => {
    const without = (name: string): string[] => {
      const i = base.indexOf(name);
      return [...base.slice(0, i), ...base.slice(i + 2)];
    };
    expect(() => parseTrainArgs([...without('--epochs'), '--epochs', 'ten'])).toThrow('--epochs: expected a number, got "ten"');
    expect(() => parseTrainArgs([...without('--epochs'), '--epochs', '0'])).toThrow('epochs: expected an integer in 1..1000, got 0');
    expect(() => parseTrainArgs(without('--epochs'))).toThrow('epochs: expected an integer in 1..1000, got none');
    expect(() => parseTrainArgs([...without('--model'), '--model', 'wgan'])).toThrow('architecture: expected one of "dcgan", "mlp", got "wgan"');
    expect(() => parseTrainArgs([...without('--dataset'), '--dataset', 'cifar'])).toThrow('dataset: expected one of "mnist", "fashion-mnist", got "cifar"');
    expect(() => parseTrainArgs(without('--out'))).toThrow('--out: expected a value, got none');
    expect(() => parseTrainArgs([...base, '--lr', '-1'])).toThrow('learningRate: expected a number > 0 and <= 1, got -1');
    expect(() => parseTrainArgs([...base, '--beta1', '1'])).toThrow('beta1: expected a number in [0, 1), got 1');
    expect(parseTrainArgs([...base, '--beta1', '0']).spec.beta1).toBe(0);
    expect(() => parseTrainArgs([...base, '--mode', 'kplusone'])).toThrow('labelsPerClass: expected an integer in 1..1000 in kplusone mode, got none');
    expect(() => parseTrainArgs([...base, '--labels-per-class', '10'])).toThrow('labelsPerClass: expected none in gan mode');
    expect(() => parseTrainArgs([...base, '--colour', 'red'])).toThrow(/Expected one of .*, got --colour/);
    expect(() => parseTrainArgs([...base, 'stray'])).toThrow('Expected an option like --epochs, got "stray"');
    expect(() => parseTrainArgs([...base, '--resume=no'])).toThrow('--resume: expected no value, got "no"');
    expect(() => parseTrainArgs([...without('--epochs'), '--epochs'])).toThrow('--epochs: expected a value, got nothing');
    expect(() => parseTrainArgs([...base, '--seed', '1.5'])).toThrow('seed: expected');
    expect(() => parseTrainArgs([...base, '--resume', '--fine-tune-from', 'a'])).toThrow('--fine-tune-from: expected it without --resume');
  });

  it('parses --filters, --generator-average and --eval-every, refusing what the model or mode cannot take', () => {
    expect(parseTrainArgs(base).spec).not.toHaveProperty('filters');
    const on = parseTrainArgs([
      ...base,
      '--filters',
      '48',
      '--generator-average',
      '0.001',
      '--eval-every',
      '2',
      '--eval-samples',
      '3000',
      '--scorers-dir',
      'sc',
    ]);
    expect(on.spec).toMatchObject({ filters: 48, generatorAverage: 0.001, evalEvery: 2, evalSamples: 3000 });
    expect(on.scorersDir).toBe('sc');
    // --eval-samples defaults to 2 splits of 1,000.
    expect(parseTrainArgs([...base, '--eval-every', '1']).spec).toMatchObject({ evalEvery: 1, evalSamples: 2000 });
    const mlp = ['--model', 'mlp', '--epochs', '2', '--out', 'x'];
    const kPlusOne = ['--mode', 'kplusone', '--labels-per-class', '1', '--feature-matching', 'd_flatten', '--epochs', '2', '--out', 'x'];
    const refused: [string[], string][] = [
      [[...base, '--filters', '4'], 'filters: expected an integer in 8..128, got 4'],
      [[...base, '--filters', '129'], 'filters: expected an integer in 8..128, got 129'],
      [[...base, '--filters', '12.5'], 'filters: expected an integer in 8..128, got 12.5'],
      [[...mlp, '--filters', '32'], 'filters: expected architecture "dcgan" (the MLP networks have fixed layer widths), got architecture "mlp"'],
      [['--mode', 'autoencoder', '--epochs', '1', '--out', 'x', '--filters', '32'], 'filters: expected architecture "dcgan"'],
      [[...base, '--generator-average', '0'], 'generatorAverage: expected a rate in (0, 1] (0.001 = decay 0.999), got 0'],
      [[...base, '--generator-average', '1.5'], 'generatorAverage: expected a rate in (0, 1] (0.001 = decay 0.999), got 1.5'],
      [[...base, '--generator-average', 'fast'], '--generator-average: expected a number, got "fast"'],
      [[...kPlusOne, '--generator-average', '0.001'], 'generatorAverage: expected mode "gan" (the average is of a GAN generator), got mode "kplusone"'],
      [[...base, '--eval-every', '3'], 'evalEvery: expected an integer in 1..2, got 3'],
      [[...base, '--eval-every', '0'], 'evalEvery: expected an integer in 1..2, got 0'],
      [[...kPlusOne, '--eval-every', '1'], 'evalEvery: expected mode "gan" (the Inception Score and FID score a GAN generator), got mode "kplusone"'],
      [['--mode', 'autoencoder', '--epochs', '1', '--out', 'x', '--eval-every', '1'], 'evalEvery: expected mode "gan"'],
      [[...base, '--eval-every', '1', '--eval-samples', '1500'], 'evalSamples: expected a multiple of 1000 in 1000..50000 (IS splits of 1000), got 1500'],
      [[...base, '--eval-every', '1', '--eval-samples', '51000'], 'evalSamples: expected a multiple of 1000 in 1000..50000 (IS splits of 1000), got 51000'],
      [[...base, '--eval-samples', '1000'], 'evalSamples: expected evalEvery with it (the samples of the per-epoch evaluation), got evalSamples 1000 alone'],
      [[...base, '--scorers-dir', 'sc'], '--scorers-dir: expected --eval-every with it'],
    ];
    for (const [argv, message] of refused) expect(() => parseTrainArgs(argv), argv.join(' ')).toThrow(message);
    // The MLP GAN takes the moving average and the evaluation (GAN mode), just not a width.
    expect(parseTrainArgs([...mlp, '--generator-average', '0.01', '--eval-every', '1']).spec).toMatchObject({ generatorAverage: 0.01, evalEvery: 1 });
  });

  it('records the command as npm run train -- <args>', () => {
    expect(commandLine(['--out', 'models/a b'])).toBe("npm run train -- --out 'models/a b'");
  });
});

describe('runTraining', () => {
  it('writes generator, discriminator, per-epoch grids, samples.png and a valid manifest', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-train-')), 'dcgan-tiny');
    const argv = [
      '--model',
      'dcgan',
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--seed',
      '3',
      '--out',
      out,
      '--limit',
      '32',
      '--latent-size',
      '8',
    ];
    const lines: string[] = [];
    const manifest = await runTraining(argv, (m) => lines.push(m));
    const onDisk = parseManifest(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'manifest.json');
    expect(onDisk).toEqual(manifest);
    expect(manifest).toMatchObject({
      name: 'dcgan-tiny',
      architecture: 'dcgan',
      dataset: 'mnist',
      latentSize: 8,
      imageShape: [28, 28, 1],
      outputRange: [-1, 1],
      generatorPath: 'generator',
      discriminatorPath: 'discriminator',
    });
    expect(manifest.training).toMatchObject({ seed: 3, epochs: 1, batchSize: 16, learningRate: 0.0002, beta1: 0.5, examples: 32, backend: 'wasm' });
    expect(manifest.training.command).toBe(commandLine(argv));
    expect(Number.isFinite(manifest.training.finalLosses.generator)).toBe(true);
    expect(manifest.training.architectureConfig).toMatchObject({ latentSize: 8, generatorFilters: 32, k: 1 });
    for (const f of ['generator/model.json', 'generator/weights.bin', 'discriminator/model.json', 'samples/epoch-001.png']) {
      expect(existsSync(path.join(out, f))).toBe(true);
    }
    // The per-epoch checkpoint is removed once the final models are written.
    expect(existsSync(path.join(out, 'checkpoint'))).toBe(false);
    const grid = decodePng(readFileSync(path.join(out, 'samples.png')));
    expect([grid.width, grid.height, grid.channels]).toEqual([8 * 28 + 9 * 2, 8 * 28 + 9 * 2, 1]);
    expect(lines.some((l) => /epoch 1 done/.test(l))).toBe(true);
    // The learning curve: one record per epoch, the last one the manifest's losses.
    const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { epoch: number; losses: { generator: number } }[];
    expect(history.map((h) => h.epoch)).toEqual([1]);
    expect(history[0].losses).toEqual(manifest.training.finalLosses);
    expect(manifest.training.kernels).toMatch(/^(wasm|native \w+, \d+ threads?)$/);
  });

  it('--filters 8: trains a narrower DCGAN, records its width, and the served generator and the discriminator have it', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-train-')), 'dcgan-narrow');
    const manifest = await runTraining(
      ['--epochs', '1', '--limit', '128', '--filters', '8', '--latent-size', '8', '--seed', '3', '--out', out],
      () => undefined,
    );
    expect(manifest.training.architectureConfig).toMatchObject({ generatorFilters: 8, discriminatorFilters: 8 });
    expect(manifest.training).toMatchObject({ examples: 128, epochs: 1 });
    // As the server loads it (batchnorm folded): dense -> 7x7x16, transposed conv -> 14x14x8 -> 28x28x1.
    const served = await loadServedGenerator(path.join(out, 'generator'));
    expect(served.getLayer('g_project').getWeights()[0].shape).toEqual([8, 7 * 7 * 16]);
    expect(served.getLayer('g_up1').outputShape).toEqual([null, 14, 14, 8]);
    expect(served.outputs[0].shape).toEqual([null, 28, 28, 1]);
    served.dispose();
    const d = await loadLayersModel(path.join(out, 'discriminator'));
    expect(d.getLayer('d_down1').outputShape).toEqual([null, 14, 14, 8]);
    expect(d.getLayer('d_down2').outputShape).toEqual([null, 7, 7, 16]);
    d.dispose();
  });

  it('records the command without --resume: a resumed run ends where the uninterrupted one would', () => {
    expect(commandLine(['--epochs', '2', '--out', 'x', '--resume'])).toBe('npm run train -- --epochs 2 --out x');
  });
});

describe("train CLI: Salimans et al.'s switches", () => {
  it('are off by default and parse with precise errors', () => {
    expect(parseTrainArgs(base).spec.techniques).toEqual({});
    const on = parseTrainArgs([
      ...base,
      '--label-smoothing',
      '0.9',
      '--feature-matching',
      'd_flatten',
      '--historical-averaging',
      '0.01',
      '--minibatch-kernels',
      '50',
      '--virtual-batch-norm',
      '32',
    ]);
    expect(on.spec.techniques).toEqual({
      labelSmoothing: 0.9,
      featureMatching: { layer: 'd_flatten' },
      historicalAveraging: { weight: 0.01 },
      minibatchDiscrimination: { kernels: 50, kernelDim: 5 },
      virtualBatchNorm: { referenceSize: 32 },
    });
    expect(parseTrainArgs([...base, '--minibatch-kernels', '8', '--minibatch-kernel-dim', '3']).spec.techniques.minibatchDiscrimination).toEqual({
      kernels: 8,
      kernelDim: 3,
    });
    expect(() => parseTrainArgs([...base, '--label-smoothing', '1.2'])).toThrow(
      'techniques.labelSmoothing: expected the real target in (0, 1] (0.9 in the paper), got 1.2',
    );
    expect(() => parseTrainArgs([...base, '--historical-averaging', '0'])).toThrow(
      'techniques.historicalAveraging.weight: expected a finite number > 0, got 0',
    );
    expect(() => parseTrainArgs([...base, '--minibatch-kernels', '0'])).toThrow(
      'techniques.minibatchDiscrimination.kernels: expected an integer in 1..1024, got 0',
    );
    expect(() => parseTrainArgs([...base, '--minibatch-kernel-dim', '3'])).toThrow('--minibatch-kernel-dim: expected --minibatch-kernels with it, got none');
    expect(() => parseTrainArgs([...base, '--feature-matching', ' '])).toThrow('--feature-matching: expected a discriminator layer name, got ""');
  });

  it('train with the switches on, record them in the manifest, and save a D that loads with its minibatch layer', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ganql-train-')), 'dcgan-techniques');
    const argv = [
      '--model',
      'dcgan',
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--seed',
      '3',
      '--out',
      out,
      '--limit',
      '32',
      '--latent-size',
      '8',
      '--label-smoothing',
      '0.9',
      '--feature-matching',
      'd_minibatch',
      '--historical-averaging',
      '0.01',
      '--minibatch-kernels',
      '4',
      '--minibatch-kernel-dim',
      '3',
      '--virtual-batch-norm',
      '8',
    ];
    const manifest = await runTraining(argv, () => undefined);
    expect(manifest.training.architectureConfig).toMatchObject({
      labelSmoothing: 0.9,
      featureMatchingLayer: 'd_minibatch',
      historicalAveragingWeight: 0.01,
      minibatchKernels: 4,
      minibatchKernelDim: 3,
      virtualBatchNormReferenceSize: 8,
    });
    expect(Number.isFinite(manifest.training.finalLosses.generator)).toBe(true);
    const d = await loadLayersModel(path.join(out, 'discriminator'));
    expect(d.getLayer('d_minibatch').getConfig()).toMatchObject({ kernels: 4, kernelDim: 3 });
    d.dispose();
    // The VBN generator was saved frozen: standard layers only, servable as is.
    const g = await loadLayersModel(path.join(out, 'generator'));
    expect(g.layers.map((l) => l.getClassName())).not.toContain('VirtualBatchNormalization');
    expect(g.getLayer('g_project_vbn').getClassName()).toBe('BatchNormalization');
    g.dispose();
  });
});

describe('train CLI: supervised mode', () => {
  const supervised = ['--mode', 'supervised', '--labels-per-class', '10', '--epochs', '2', '--out', 's'];

  it("parses the reproduce plan's supervised steps: the K+1 MLP's D on its labelled examples", () => {
    const steps = planSteps('full').filter((s): s is TrainStep => s.kind === 'train' && s.args.includes('supervised'));
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      const { spec } = parseTrainArgs([...step.args, '--out', step.out]);
      expect(spec).toMatchObject({ mode: 'supervised', architecture: 'mlp', batchSize: 100, learningRate: 0.003, beta1: 0.5, techniques: {} });
      expect(spec.labelsPerClass).toBeGreaterThan(0);
    }
    // The architecture defaults to the only one it has; a checked spec checks again.
    const { spec } = parseTrainArgs(supervised);
    expect(spec).toMatchObject({ mode: 'supervised', architecture: 'mlp', labelsPerClass: 10 });
    expect(checkTrainingSpec(spec)).toEqual(spec);
  });

  it('refuses what has no meaning without a generator, naming the option', () => {
    const bad: [string[], string][] = [
      [['--model', 'dcgan'], 'architecture: expected "mlp" in supervised mode (the baseline is the K+1 MLP discriminator of Salimans et al.), got "dcgan"'],
      [['--k', '2'], 'k: expected none in supervised mode (there is no generator step to count discriminator steps against), got 2'],
      [['--loss', 'minimax'], 'generatorLoss: expected none in supervised mode (there is no generator), got "minimax"'],
      [['--latent-size', '64'], 'latentSize: expected none in supervised mode (there is no generator), got 64'],
      [
        ['--feature-matching', 'd_hidden5'],
        'techniques.featureMatching: expected none in supervised mode (the techniques are for GANs), got {"layer":"d_hidden5"}',
      ],
      [['--label-smoothing', '0.9'], 'techniques.labelSmoothing: expected none in supervised mode (the techniques are for GANs), got 0.9'],
      [
        ['--historical-averaging', '0.01'],
        'techniques.historicalAveraging: expected none in supervised mode (the techniques are for GANs), got {"weight":0.01}',
      ],
    ];
    for (const [extra, message] of bad) expect(() => parseTrainArgs([...supervised, ...extra])).toThrow(message);
    expect(() => parseTrainArgs(['--mode', 'supervised', '--epochs', '1', '--out', 's'])).toThrow(
      'labelsPerClass: expected an integer in 1..1000 in supervised mode, got none',
    );
  });

  it('refuses --fine-tune-from: the baseline trains from scratch', async () => {
    await expect(runTraining([...supervised, '--fine-tune-from', 'models/dcgan-mnist', '--threads', '0'], () => undefined)).rejects.toThrow(
      `fineTuneFrom: expected none in supervised mode (the supervised baseline trains from scratch), got ${JSON.stringify(path.resolve('models/dcgan-mnist'))}`,
    );
  });
});
