import { describe, expect, it } from 'vitest';
import { planSteps } from '../../scripts/lib/reproduce/plan';
import { canonical, commandOf } from '../../scripts/lib/reproduce/runner';
import { fillBlocks, formatPercent, meanStd, renderResults } from '../../scripts/lib/reproduce/tables';
import type { StepResult, TrainResult } from '../../scripts/lib/reproduce/runner';
import type { ModelManifest } from '../../src/models/manifest';

describe('reproduce: statistics and formatting', () => {
  it('gives the mean and the sample standard deviation, as the paper reports runs', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(meanStd([4])).toEqual({ mean: 4, std: 0, n: 1 });
    expect(formatPercent([2.5, 3.5])).toBe('3.00 ± 0.71%');
    expect(formatPercent([2.5])).toBe('2.50% (1 run)');
    expect(formatPercent([])).toBe('pending');
  });

  it('compares commands whatever the order of their flags, without the ones that do not change a result', () => {
    const a = 'npm run train -- --epochs 300 --seed 1 --threads 1 --out models/x';
    const b = 'npm run train -- --seed 1 --out models/x --epochs 300 --resume';
    expect(canonical(a)).toBe(canonical(b));
    expect(canonical(a)).not.toBe(canonical('npm run train -- --epochs 300 --seed 2 --out models/x'));
    expect(canonical(a)).not.toBe(canonical('npm run eval -- --epochs 300 --seed 1 --out models/x'));
  });
});

describe('reproduce: the plan', () => {
  it('has Table 1 in full: K+1 and the supervised baseline at 20, 50, 100 and 200 labels over 3 seeds, the shipped K+1 among them', () => {
    const steps = planSteps('full');
    const ids = steps.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const perClass of [2, 5, 10, 20]) {
      for (const seed of [1, 2, 3]) {
        expect(ids).toContain(`kplusone-mnist-l${perClass}-s${seed}`);
        expect(ids).toContain(`supervised-mnist-l${perClass}-s${seed}`);
      }
    }
    const shipped = steps.filter((s) => s.kind === 'train' && s.shipped).map((s) => (s.kind === 'train' ? s.out : ''));
    expect(shipped.sort()).toEqual(['models/dcgan-fashion-mnist', 'models/dcgan-mnist', 'models/mnist-kplusone', 'models/mnist-mlp-gan']);
    // Every eval of a model names a training that comes before it.
    for (const [i, s] of steps.entries()) {
      if (s.kind !== 'eval' || s.after === undefined) continue;
      expect(ids.indexOf(s.after)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(s.after)).toBeLessThan(i);
    }
    const byId = new Map(steps.map((s) => [s.id, s]));
    expect(commandOf(byId.get('eval-dcgan-mnist')!, byId, { base: '/p', root: '/p' })).toBe(
      'npm run eval -- --model models/dcgan-mnist --metrics is,fid,kid,parzen --samples 10000 --splits 10 --seed 0 --nearest docs/figures/dcgan-mnist-nearest.png',
    );
    // Each shipped GAN's samples beside their nearest training images; the figure goes in the quick plan's output folder there.
    expect(steps.filter((s) => s.kind === 'eval' && s.figure !== undefined).map((s) => s.id)).toEqual([
      'eval-dcgan-mnist',
      'eval-dcgan-fashion-mnist',
      'eval-mnist-mlp-gan',
    ]);
    const quick = new Map(planSteps('quick').map((s) => [s.id, s]));
    expect(commandOf(quick.get('eval-mnist-mlp-gan')!, quick, { base: '/tmp/q', root: '/p' })).toBe(
      'npm run eval -- --model /tmp/q/models/mnist-mlp-gan --metrics is,fid,kid,parzen --samples 200 --splits 2 --seed 0 --nearest /tmp/q/figures/mnist-mlp-gan-nearest.png',
    );
  });
});

function trained(id: string, testError: number, epochs = 3): TrainResult {
  const manifest = {
    name: id,
    version: 'v1',
    training: {
      command: `npm run train -- --out ${id}`,
      epochs,
      durationSeconds: 65,
      backend: 'wasm',
      kernels: 'native avx512, 2 threads',
      metrics: { testError },
    },
  } as unknown as ModelManifest;
  const history = Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    losses: { generator: 0, discriminator: 0 },
    seconds: 1,
    testError: testError * (epochs - i),
  }));
  return { kind: 'train', id, command: manifest.training.command, out: id, shipped: false, manifest, history };
}

describe('reproduce: the tables', () => {
  const steps = planSteps('full');
  const summary = (median: number, min: number, closerThanRealMin: number | null) => ({ images: 256, median, min, closerThanRealMin });
  const nearestEval = {
    kind: 'eval',
    id: 'eval-dcgan-mnist',
    command: 'npm run eval -- --model models/dcgan-mnist --nearest docs/figures/dcgan-mnist-nearest.png',
    report: {
      samples: 10000,
      scorer: 'mnist-cnn',
      output: {},
      nearest: { figure: 'docs/figures/dcgan-mnist-nearest.png', shown: 16, subject: summary(5.43, 1.88, 0.004), real: summary(4.63, 1.05, 0) },
    },
  } as unknown as StepResult;
  const results = new Map<string, StepResult>([
    ['eval-dcgan-mnist', nearestEval],
    ['kplusone-mnist-l10-s1', trained('kplusone-mnist-l10-s1', 0.02)],
    ['kplusone-mnist-l10-s2', trained('kplusone-mnist-l10-s2', 0.03)],
    ['supervised-mnist-l10-s1', trained('supervised-mnist-l10-s1', 0.2)],
  ]);
  const rendered = renderResults({ steps, results, resultsDir: 'results' });

  it('puts the seeds that finished in mean ± std beside the paper, says how many ran, and leaves the rest pending', () => {
    const table = rendered.blocks.get('kplusone-mnist')!;
    expect(table).toContain('| 100 | 0.93 ± 0.065% | 2.50 ± 0.71% | 20.00% (1 run) | 17.50 points | 2/3 + 1/3 | 3 |');
    expect(table).toContain('| 20 | 16.77 ± 4.52% | pending | pending | pending | 0/3 + 0/3 | pending |');
    expect(rendered.blocks.get('parzen')).toContain('| Goodfellow et al., MNIST GAN samples (MNIST test set) | 225 ± 2 | (paper) | |');
  });

  it("puts each GAN's nearest-image distances beside the real images, links its figure, and leaves the others pending", () => {
    const table = rendered.blocks.get('nearest')!;
    expect(table).toContain(
      '| `dcgan-mnist` | 5.43 / 1.88 | 4.63 / 1.05 | 0.4% | `npm run eval -- --model models/dcgan-mnist --nearest docs/figures/dcgan-mnist-nearest.png` |',
    );
    expect(table).toContain('| `mnist-mlp-gan` | pending | | | |');
    expect(table).toContain('(figures/dcgan-mnist-nearest.png)');
    expect(table).not.toContain('mnist-mlp-gan-nearest.png');
  });

  it('draws the 100-label learning curves', () => {
    const svg = rendered.figures.get('kplusone-mnist-curve.svg')!;
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain('K+1 seed 1: 2.00%');
  });

  it('fills the named blocks of a document and refuses a document without one', () => {
    const doc = 'intro\n<!-- reproduce:parzen -->\nold\n<!-- /reproduce:parzen -->\nend\n';
    expect(fillBlocks(doc, new Map([['parzen', 'new table']]))).toBe('intro\n<!-- reproduce:parzen -->\nnew table\n<!-- /reproduce:parzen -->\nend\n');
    expect(() => fillBlocks(doc, new Map([['gan-scores', 'x']]))).toThrow(
      'expected a block <!-- reproduce:gan-scores --> ... <!-- /reproduce:gan-scores --> in the document, found none',
    );
  });
});
