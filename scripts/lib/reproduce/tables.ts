import { formatSeconds } from '../../../src/log/progress-bar';
import { PAPER_KPLUSONE_MNIST, PAPER_PARZEN_MNIST, type Step } from './plan';
import type { EvalResult, StepResult, TrainResult } from './runner';

/** The tables and figures `npm run reproduce` writes, by the name of their block in docs/research.md. */
export interface Rendered {
  blocks: Map<string, string>;
  /** SVG files, by file name (written beside the document, under figures/). */
  figures: Map<string, string>;
}

interface Context {
  steps: readonly Step[];
  results: ReadonlyMap<string, StepResult>;
  /** Where the results are kept, as the tables cite it. */
  resultsDir: string;
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/** "2.43 ± 0.31%" over the runs; "2.43% (1 run)"; "pending" with none. */
export function formatPercent(values: readonly number[], digits = 2): string {
  const { mean, std, n } = meanStd(values);
  if (n === 0) return 'pending';
  if (n === 1) return `${mean.toFixed(digits)}% (1 run)`;
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}%`;
}

function train(ctx: Context, id: string): TrainResult | undefined {
  const r = ctx.results.get(id);
  return r?.kind === 'train' ? r : undefined;
}

function evaluation(ctx: Context, id: string): EvalResult | undefined {
  const r = ctx.results.get(id);
  return r?.kind === 'eval' ? r : undefined;
}

/** A training's final held-out test error, in percent. */
function testErrorPercent(r: TrainResult | undefined): number | undefined {
  const e = r?.manifest.training.metrics?.testError;
  return e === undefined ? undefined : e * 100;
}

function planned(ctx: Context, prefix: string): Step[] {
  return ctx.steps.filter((s) => s.id.startsWith(prefix));
}

/** Seeds of a (method, dataset, labels) cell that the plan has, and the errors of those that finished. */
function cell(ctx: Context, method: 'kplusone' | 'supervised', dataset: string, perClass: number): { planned: number; errors: number[]; epochs?: number } {
  const steps = planned(ctx, `${method}-${dataset}-l${perClass}-s`);
  const done = steps.map((s) => train(ctx, s.id)).filter((r): r is TrainResult => r !== undefined);
  const errors = done.map(testErrorPercent).filter((e): e is number => e !== undefined);
  return { planned: steps.length, errors, epochs: done[0]?.manifest.training.epochs };
}

function labelCounts(ctx: Context, dataset: string): number[] {
  const counts = new Set<number>();
  for (const s of ctx.steps) {
    const m = new RegExp(`^kplusone-${dataset}-l(\\d+)-s\\d+$`).exec(s.id);
    if (m) counts.add(Number(m[1]));
  }
  return [...counts].sort((a, b) => a - b);
}

function gain(k: number[], b: number[]): string {
  if (k.length === 0 || b.length === 0) return 'pending';
  return `${(meanStd(b).mean - meanStd(k).mean).toFixed(2)} points`;
}

function kplusoneTable(ctx: Context, dataset: string, paper: boolean): string {
  const head = paper
    ? '| labels | Salimans et al. (60,000 unlabelled) | ganql K+1 | supervised only, same D | gain of K+1 | runs | epochs |\n|---|---|---|---|---|---|---|'
    : '| labels | ganql K+1 | supervised only, same D | gain of K+1 | runs | epochs |\n|---|---|---|---|---|---|';
  const rows = labelCounts(ctx, dataset).map((perClass) => {
    const k = cell(ctx, 'kplusone', dataset, perClass);
    const b = cell(ctx, 'supervised', dataset, perClass);
    const p = PAPER_KPLUSONE_MNIST[perClass];
    const paperCell = paper ? ` ${p ? `${p.mean.toFixed(2)} ± ${p.std}%` : '-'} |` : '';
    const runs = `${k.errors.length}/${k.planned} + ${b.errors.length}/${b.planned}`;
    return `| ${perClass * 10} |${paperCell} ${formatPercent(k.errors)} | ${formatPercent(b.errors)} | ${gain(k.errors, b.errors)} | ${runs} | ${k.epochs ?? 'pending'} |`;
  });
  return [head, ...rows].join('\n');
}

function fixed(v: number | undefined, digits: number): string {
  return v === undefined ? '-' : v.toFixed(digits);
}

/** IS, FID, KID and Parzen of the models and the references, one row per evaluation. */
function scoresTable(ctx: Context): string {
  const rows: [string, string][] = [
    ['real held-out digits', 'eval-real-mnist'],
    ['`dcgan-mnist`', 'eval-dcgan-mnist'],
    ['`mnist-mlp-gan`', 'eval-mnist-mlp-gan'],
    ['uniform noise', 'eval-noise-mnist'],
    ['real Fashion-MNIST test images', 'eval-real-fashion-mnist'],
    ['`dcgan-fashion-mnist`', 'eval-dcgan-fashion-mnist'],
  ];
  const lines = ['| images | scored | Inception Score | FID | KID | command |', '|---|---|---|---|---|---|'];
  for (const [label, id] of rows) {
    if (!ctx.steps.some((s) => s.id === id)) continue;
    const r = evaluation(ctx, id);
    if (!r) {
      lines.push(`| ${label} | pending | | | | |`);
      continue;
    }
    const o = r.report.output;
    const is = o.inceptionScore ? `**${o.inceptionScore.mean.toFixed(3)} ± ${o.inceptionScore.std.toFixed(3)}**` : '-';
    const kid = o.kid ? `${o.kid.mean.toFixed(3)} ± ${o.kid.std.toFixed(3)}` : '-';
    lines.push(`| ${label} | ${r.report.samples.toLocaleString('en-US')} (${r.report.scorer}) | ${is} | ${fixed(o.fid, 2)} | ${kid} | \`${r.command}\` |`);
  }
  return lines.join('\n');
}

/**
 * Each model's samples beside their nearest training images (Goodfellow et al. 2014, figure 2): the
 * distances beside those of held-out real images, and the figure the evaluation wrote. `figureDir`:
 * the figures' folder as the document links it.
 */
function nearestTable(ctx: Context, figureDir: string): string {
  const lines = [
    '| model | samples: median / min distance | held-out real images: median / min | samples closer than any real image | command |',
    '|---|---|---|---|---|',
  ];
  const figures: string[] = [];
  for (const step of ctx.steps) {
    if (step.kind !== 'eval' || step.figure === undefined || step.after === undefined) continue;
    const r = evaluation(ctx, step.id);
    const nearest = r?.report.nearest;
    if (!r || !nearest) {
      lines.push(`| \`${step.after}\` | pending | | | |`);
      continue;
    }
    const { subject, real } = nearest;
    const closer = subject.closerThanRealMin === null ? '-' : `${(subject.closerThanRealMin * 100).toFixed(1)}%`;
    const realCell = real ? `${real.median.toFixed(2)} / ${real.min.toFixed(2)}` : '-';
    lines.push(`| \`${step.after}\` | ${subject.median.toFixed(2)} / ${subject.min.toFixed(2)} | ${realCell} | ${closer} | \`${r.command}\` |`);
    const file = step.figure.split('/').pop() ?? step.figure;
    figures.push(`![${step.after}: samples (rows 1 and 3) above their nearest training images (rows 2 and 4)](${figureDir}/${file})`);
  }
  return [lines.join('\n'), ...figures].join('\n\n');
}

function parzenTable(ctx: Context): string {
  const lines = [
    '| windows on | Parzen log-likelihood (nats) | sigma | command |',
    '|---|---|---|---|',
    `| Goodfellow et al., MNIST GAN samples (MNIST test set) | ${PAPER_PARZEN_MNIST.mean} ± ${PAPER_PARZEN_MNIST.stdErr} | (paper) | |`,
  ];
  const rows: [string, string][] = [
    ['real training digits (the ceiling)', 'eval-real-mnist'],
    ['`mnist-mlp-gan` samples', 'eval-mnist-mlp-gan'],
    ['`dcgan-mnist` samples', 'eval-dcgan-mnist'],
    ['uniform noise', 'eval-noise-mnist'],
  ];
  for (const [label, id] of rows) {
    if (!ctx.steps.some((s) => s.id === id)) continue;
    const r = evaluation(ctx, id);
    const p = r?.report.output.parzen;
    if (!r || !p) {
      lines.push(`| ${label} | pending | | |`);
      continue;
    }
    lines.push(
      `| ${label} (${(r.report.output.parzenSamples ?? 0).toLocaleString('en-US')}) | **${p.mean.toFixed(1)} ± ${p.stdErr.toFixed(1)}** | ${p.sigma.toFixed(3)} | \`${r.command}\` |`,
    );
  }
  return lines.join('\n');
}

const PAPERS: Record<string, string> = {
  'mnist-kplusone': 'Salimans et al.',
  'dcgan-mnist': 'Radford et al.',
  'dcgan-fashion-mnist': 'Radford et al.',
  'mnist-mlp-gan': 'Goodfellow et al.',
};

/** The shipped models: the command, seed, epochs, wall time and kernels each was made with. */
function shippedTable(ctx: Context): string {
  const lines = ['| model | paper | command | epochs | time | kernels | held-out |', '|---|---|---|---|---|---|---|'];
  for (const step of ctx.steps) {
    if (step.kind !== 'train' || !step.shipped) continue;
    const r = train(ctx, step.id);
    if (!r) {
      lines.push(`| \`${step.out}\` | ${PAPERS[step.out.split('/').pop() ?? ''] ?? ''} | pending | | | | |`);
      continue;
    }
    const t = r.manifest.training;
    const err = testErrorPercent(r);
    const heldOut = err !== undefined ? `${err.toFixed(2)}% test error` : '';
    lines.push(
      `| \`${r.manifest.name}@${r.manifest.version}\` | ${PAPERS[r.manifest.name] ?? ''} | \`${t.command}\` | ${t.epochs} | ${formatSeconds(t.durationSeconds)} | ${t.kernels ?? t.backend} | ${heldOut} |`,
    );
  }
  return lines.join('\n');
}

/** Test error per epoch of the 100-label MNIST runs, K+1 and supervised, as an SVG line chart. */
export function curveSvg(ctx: Context, dataset: string, perClass: number): string | undefined {
  const series: { label: string; colour: string; points: [number, number][] }[] = [];
  for (const method of ['kplusone', 'supervised'] as const) {
    for (const step of planned(ctx, `${method}-${dataset}-l${perClass}-s`)) {
      const r = train(ctx, step.id);
      if (!r) continue;
      const points = r.history.filter((h) => typeof h.testError === 'number').map((h): [number, number] => [h.epoch, (h.testError as number) * 100]);
      if (points.length > 0)
        series.push({
          label: `${method === 'kplusone' ? 'K+1' : 'supervised'} seed ${step.id.split('-s').pop()}`,
          colour: method === 'kplusone' ? '#1f6feb' : '#d1242f',
          points,
        });
    }
  }
  if (series.length === 0) return undefined;
  const W = 640;
  const H = 360;
  const m = { left: 50, right: 150, top: 20, bottom: 40 };
  const maxEpoch = Math.max(...series.flatMap((s) => s.points.map((p) => p[0])), 1);
  const maxError = Math.min(100, Math.max(5, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const x = (e: number): number => m.left + ((e - 1) / Math.max(maxEpoch - 1, 1)) * (W - m.left - m.right);
  const y = (v: number): number => m.top + (1 - v / maxError) * (H - m.top - m.bottom);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`,
    `<text x="12" y="${(m.top + H - m.bottom) / 2}" transform="rotate(-90 12 ${(m.top + H - m.bottom) / 2})" text-anchor="middle">test error (%)</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (maxError * i) / 5;
    out.push(`<text x="${m.left - 4}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
    out.push(`<line x1="${m.left}" y1="${y(v)}" x2="${W - m.right}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="${m.left}" y="${H - m.bottom + 14}" text-anchor="middle">1</text>`);
  out.push(`<text x="${W - m.right}" y="${H - m.bottom + 14}" text-anchor="middle">${maxEpoch}</text>`);
  series.forEach((s, i) => {
    const d = s.points.map(([e, v], j) => `${j === 0 ? 'M' : 'L'}${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.2" stroke-opacity="${0.55 + 0.15 * (i % 3)}"/>`);
    out.push(`<text x="${W - m.right + 8}" y="${m.top + 14 * (i + 1)}" fill="${s.colour}">${s.label}: ${s.points[s.points.length - 1][1].toFixed(2)}%</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Every table and figure from the results there are; steps without a result show as pending. */
export function renderResults(ctx: Context): Rendered {
  const blocks = new Map<string, string>();
  const note = (what: string): string => `\n\n${what} Results: \`${ctx.resultsDir}/\`.`;
  blocks.set('shipped-models', shippedTable(ctx) + note('Written by `npm run reproduce`.'));
  blocks.set(
    'kplusone-mnist',
    kplusoneTable(ctx, 'mnist', true) +
      note(
        'Test error on the 1,000 held-out digits after the last epoch, mean ± std over the label seeds (runs: K+1 + supervised done of planned). The paper: errors on the 10,000 MNIST test digits over 10 seeds.',
      ),
  );
  blocks.set(
    'kplusone-fashion-mnist',
    kplusoneTable(ctx, 'fashion-mnist', false) + note('Test error on the 10,000 Fashion-MNIST test images, mean ± std over the label seeds.'),
  );
  blocks.set('gan-scores', scoresTable(ctx) + note("Scored with the dataset's scorer under models/scorers; FID and KID against its training split."));
  blocks.set(
    'parzen',
    parzenTable(ctx) + note('Sigma chosen on the first half of the held-out digits, the log-likelihood mean ± standard error on the second half.'),
  );
  blocks.set(
    'nearest',
    nearestTable(ctx, 'figures') +
      note(
        'Pixel L2 distance to the nearest training image, pixels in [0, 1], over the first 256 samples of the scored seed and the first 256 held-out test images; the figures show the first 16 samples.',
      ),
  );
  const figures = new Map<string, string>();
  const curve = curveSvg(ctx, 'mnist', 10);
  if (curve) figures.set('kplusone-mnist-curve.svg', curve);
  return { blocks, figures };
}

/** Replaces the body of every `<!-- reproduce:NAME -->...<!-- /reproduce:NAME -->` block; throws naming a block the document lacks. */
export function fillBlocks(doc: string, blocks: ReadonlyMap<string, string>): string {
  let out = doc;
  for (const [name, body] of blocks) {
    const open = `<!-- reproduce:${name} -->`;
    const close = `<!-- /reproduce:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`expected a block ${open} ... ${close} in the document, found none`);
    out = `${out.slice(0, start + open.length)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}
