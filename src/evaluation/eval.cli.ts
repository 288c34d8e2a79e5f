// Over 300 lines: the whole `npm run eval` command (argument parsing, image sources, the run and its
// printed report), so the one entry point reads top to bottom.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../backend/backend';
import { createPrng } from '../data/prng';
import { runGenerator } from '../inference/run-generator';
import { formatSeconds, progressBar } from '../log/progress-bar';
import { generatorOf, readManifest, type GeneratorEntry, type ModelManifest } from '../models/manifest';
import { loadServedGenerator } from '../models/served-generator';
import { seededLatentStream } from '../samples/latents';
import type { EvaluationMetric, MetricsOutput } from './compute-metrics';
import { EVALUATION_LIMITS } from './evaluation.limits';
import { DatasetCache } from './dataset-cache';
import { computeReference, evaluateImages, parzenSets, splitSource, type ImageSource } from './evaluator';
import { computeMetricsInThread } from './metrics-runner';
import { NEAREST_FIGURE_MEASURED, NEAREST_FIGURE_SHOWN, nearestFigure, type NearestReport } from './nearest-figure';
import { REFERENCE_DATASETS, type DatasetSplit, type ReferenceDataset, type SplitName } from './reference-datasets';
import { ScorerCatalog, type ScorerEntry } from './scorer-catalog';
import { defaultScorer, scorerMisfit } from './scorer-fit';
import { parseFlags } from '../cli/flags';
import { mapPixel, UNIT_RANGE } from '../images/pixel-range';

/** What is evaluated: a model's samples, the real test images of a dataset, or uniform noise. */
export type EvalSubject = { kind: 'model'; dir: string } | { kind: 'real' } | { kind: 'noise' };

/** Validated command line of `npm run eval`. */
export interface EvalArgs {
  subject: EvalSubject;
  /** Dataset of --real and --noise (a model brings its own). */
  dataset: string | undefined;
  metrics: EvaluationMetric[];
  samples: number;
  seed: number;
  splits: number;
  /** Scorer name under scorersDir; the first trained on the dataset when omitted. */
  scorer: string | undefined;
  scorersDir: string;
  /** Print the results as one JSON object on stdout instead of lines. */
  json: boolean;
  /** Where to write the figure of images beside their nearest training images (with --model or --real). */
  nearest: string | undefined;
}

export const USAGE =
  'usage: npm run eval -- (--model DIR | --real | --noise) [--dataset mnist] [--metrics is,fid,kid,parzen] [--samples 10000] ' +
  '[--seed 0] [--splits 10] [--scorer NAME] [--scorers-dir models/scorers] [--nearest FILE.png] [--json] ' +
  '(with --real, parzen puts its windows on the first --samples training images: the ceiling of the protocol)';

const METRIC_NAMES: Record<string, EvaluationMetric> = { is: 'INCEPTION_SCORE', fid: 'FID', kid: 'KID', parzen: 'PARZEN' };
const FLAGS = ['real', 'noise', 'json'];
const OPTIONS = ['model', 'dataset', 'metrics', 'samples', 'seed', 'splits', 'scorer', 'scorers-dir', 'nearest'];

export function parseEvalArgs(argv: readonly string[]): EvalArgs {
  const args = parseFlags(argv, { options: OPTIONS, flags: FLAGS, defaults: { metrics: 'is', 'scorers-dir': 'models/scorers' }, usage: USAGE });
  const int = (name: string, min: number, max: number, fallback: number): number => args.int(name, min, { max, fallback });
  const model = args.get('model');
  const chosen = [model !== undefined && '--model', args.has('real') && '--real', args.has('noise') && '--noise'].filter(Boolean);
  if (chosen.length !== 1)
    throw new Error(`Expected exactly one of --model DIR, --real, --noise, got ${chosen.length === 0 ? 'none' : chosen.join(' and ')}\n${USAGE}`);
  const subject: EvalSubject = model !== undefined ? { kind: 'model', dir: model } : args.has('real') ? { kind: 'real' } : { kind: 'noise' };

  const metrics = [
    ...new Set(
      args
        .required('metrics')
        .split(',')
        .map((m) => {
          const metric = METRIC_NAMES[m.trim().toLowerCase()];
          if (!metric) throw new Error(`--metrics: expected a comma list of ${Object.keys(METRIC_NAMES).join(', ')}, got ${JSON.stringify(m)}`);
          return metric;
        }),
    ),
  ];
  const dataset = args.get('dataset');
  if (dataset !== undefined && !REFERENCE_DATASETS.has(dataset)) {
    throw new Error(`--dataset: expected one of ${[...REFERENCE_DATASETS.keys()].join(', ')}, got ${JSON.stringify(dataset)}`);
  }
  if (dataset !== undefined && subject.kind === 'model') throw new Error('--dataset: expected it only with --real or --noise (a model brings its own dataset)');
  const nearest = args.get('nearest');
  if (nearest !== undefined && subject.kind === 'noise')
    throw new Error('--nearest: expected it with --model or --real, got --noise (noise has no nearest training image to show)');
  if (nearest !== undefined && !nearest.toLowerCase().endsWith('.png'))
    throw new Error(`--nearest: expected a .png file to write, got ${JSON.stringify(nearest)}`);
  return {
    subject,
    dataset,
    metrics,
    samples: int('samples', EVALUATION_LIMITS.samples.min, EVALUATION_LIMITS.samples.max, EVALUATION_LIMITS.samples.default),
    seed: int('seed', 0, 2 ** 31 - 1, EVALUATION_LIMITS.seed.default),
    splits: int('splits', EVALUATION_LIMITS.splits.min, EVALUATION_LIMITS.splits.max, EVALUATION_LIMITS.splits.default),
    scorer: args.get('scorer'),
    scorersDir: args.required('scorers-dir'),
    json: args.has('json'),
    nearest,
  };
}

/** The results, as printed. */
export interface EvalReport {
  subject: string;
  dataset: string;
  scorer: string;
  /** The scorer's accuracy on its held-out test split, from its manifest. */
  scorerTestAccuracy: number;
  samples: number;
  seed: number;
  splits: number;
  metrics: EvaluationMetric[];
  output: MetricsOutput & { parzenSamples?: number };
  referenceImages: number | null;
  /** With --nearest: the figure written and the distances to the nearest training images. */
  nearest?: NearestReport;
  seconds: number;
}

/** A progress bar on stderr: redrawn in place on a terminal, one line per 10% elsewhere. */
function progressLine(label: string): { update(fraction: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let lastTenth = -1;
  const draw = (fraction: number): void => {
    const elapsed = (performance.now() - started) / 1000;
    const eta = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Infinity;
    process.stderr.write(
      `${tty ? '\r' : ''}${label.padEnd(10)} ${progressBar(fraction, 1)} ${(fraction * 100).toFixed(0).padStart(3)}% ETA ${formatSeconds(eta)}${tty ? '' : '\n'}`,
    );
  };
  return {
    update(fraction) {
      const tenth = Math.floor(fraction * 10);
      if (!tty && tenth === lastTenth) return;
      lastTenth = tenth;
      draw(fraction);
    },
    done() {
      if (tty) process.stderr.write(` ${formatSeconds((performance.now() - started) / 1000)}\n`);
    },
  };
}

/** A model folder to evaluate: its manifest and its generator, which it must have (the samples are what is scored). */
export function readModel(dir: string): { dir: string; manifest: ModelManifest; generator: GeneratorEntry } {
  const manifest = readManifest(dir);
  const generator = generatorOf(manifest);
  if (generator === undefined) {
    throw new Error(`--model: expected a model version with a generator, got ${dir}, which has none (a classifier trained in supervised mode)`);
  }
  return { dir, manifest, generator };
}

/**
 * The generator of a model folder as an ImageSource of samples from seededLatents(seed), loaded as
 * the server loads it (batchnorm folded) and run as its executors run it, so the images are the server's.
 */
export async function modelSource(
  dir: string,
  manifest: ModelManifest,
  entry: GeneratorEntry,
  seed: number,
): Promise<{ source: ImageSource; dispose: () => void }> {
  const generator = await loadServedGenerator(path.join(dir, entry.path));
  const next = seededLatentStream(seed, entry.latentSize);
  const z = entry.latentSize;
  return {
    source: {
      imageShape: manifest.imageShape,
      range: manifest.outputRange,
      read: async (_start, count) => {
        const latents = new Float32Array(count * z);
        next(count).forEach((v, i) => latents.set(v, i * z));
        return runGenerator(generator, latents, count);
      },
    },
    dispose: () => generator.dispose(),
  };
}

/** Uniform noise images in `range`, seeded. */
function noiseSource(imageShape: [number, number, number], range: [number, number], seed: number): ImageSource {
  const prng = createPrng(seed);
  const pixels = imageShape[0] * imageShape[1] * imageShape[2];
  return {
    imageShape,
    range,
    read: async (_start, count) => Float32Array.from({ length: count * pixels }, () => mapPixel(prng.next(), UNIT_RANGE, range)),
  };
}

export async function runEval(argv: readonly string[], log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<EvalReport> {
  const args = parseEvalArgs(argv);
  const started = performance.now();
  await initBackend({ order: ['wasm', 'cpu'], log });
  const model = args.subject.kind === 'model' ? readModel(args.subject.dir) : undefined;
  const manifest = model?.manifest;
  const datasetName = manifest?.dataset ?? args.dataset ?? 'mnist';
  const dataset: ReferenceDataset | undefined = REFERENCE_DATASETS.get(datasetName);
  if (!dataset && args.metrics.some((m) => m !== 'INCEPTION_SCORE')) {
    throw new Error(`--metrics: expected only is for dataset ${JSON.stringify(datasetName)}, whose images ganql cannot load, got ${args.metrics.join(',')}`);
  }
  if (!dataset && args.nearest !== undefined) throw new Error(`--nearest: expected a dataset ganql can load, got ${JSON.stringify(datasetName)}`);
  // Its folder now: a path that cannot be written fails before the scoring, not after it.
  if (args.nearest !== undefined) mkdirSync(path.dirname(path.resolve(args.nearest)), { recursive: true });

  // Each split loaded once for the run: the reference, Parzen and the nearest images may all want the training split.
  const splits = new DatasetCache();
  const split = (name: SplitName): Promise<DatasetSplit> => splits.get(datasetName, name);
  const catalog = ScorerCatalog.load(args.scorersDir, (folder, reason) => log(`scorer ${folder} skipped: ${reason}`));
  const imageShape = manifest?.imageShape ?? dataset?.imageShape ?? [28, 28, 1];
  const subjectId = manifest ? `${manifest.name}@${manifest.version}` : datasetName;
  const scored = { id: subjectId, manifest: { dataset: datasetName, imageShape } };
  const misfit = (s: ScorerEntry): string | undefined => scorerMisfit(s, scored, (d) => REFERENCE_DATASETS.get(d));
  const entry: ScorerEntry | undefined =
    args.scorer !== undefined ? catalog.get(args.scorer) : defaultScorer(catalog.list(), scored, (d) => REFERENCE_DATASETS.get(d));
  if (!entry) {
    throw new Error(
      `--scorer: expected one of ${
        catalog
          .list()
          .map((s) => s.name)
          .join(', ') || `(none under ${args.scorersDir})`
      }, got ${args.scorer ?? `none fitting dataset ${datasetName}`}`,
    );
  }
  const why = misfit(entry);
  if (why !== undefined) throw new Error(`--scorer: ${why}`);
  const { scorer } = await catalog.use(entry.name);

  try {
    let reference;
    if (dataset && (args.metrics.includes('FID') || args.metrics.includes('KID'))) {
      const train = await split('train');
      const bar = progressLine('reference');
      reference = await computeReference(scorer, train, { onProgress: (done) => bar.update(done / train.count) });
      bar.done();
    }
    const test = dataset && (args.subject.kind === 'real' || args.metrics.includes('PARZEN')) ? await split('test') : undefined;
    // --real scores the test images with the scorer's metrics; Parzen's windows then go on training
    // images instead (the test images are the protocol's validation and test points themselves).
    const realParzen = args.subject.kind === 'real' && args.metrics.includes('PARZEN');
    const train = realParzen && dataset ? await split('train') : undefined;
    let source: ImageSource;
    let samples = args.samples;
    let subject: string;
    let dispose = (): void => undefined;
    if (model) {
      const made = await modelSource(model.dir, model.manifest, model.generator, args.seed);
      source = made.source;
      dispose = made.dispose;
      subject = `model ${model.manifest.name}@${model.manifest.version} (${model.dir})`;
    } else if (args.subject.kind === 'real') {
      if (!test) throw new Error(`--real: dataset ${JSON.stringify(datasetName)}: ganql cannot load its images`);
      source = splitSource(test);
      if (samples > test.count) {
        log(`--real: the ${datasetName} test split has ${test.count} images; evaluating all of them instead of ${samples}`);
        samples = test.count;
      }
      subject = `real ${datasetName} test images`;
    } else {
      // Every pixel uniform over its range: the images carry no class at all.
      source = noiseSource(imageShape, [-1, 1], args.seed);
      subject = `uniform noise images (${imageShape.join('x')})`;
    }
    const bar = progressLine('scoring');
    let output;
    try {
      const scored = realParzen ? args.metrics.filter((m) => m !== 'PARZEN') : args.metrics;
      output =
        scored.length === 0
          ? {}
          : await evaluateImages({
              source,
              samples,
              metrics: scored,
              splits: args.splits,
              seed: args.seed,
              scorer,
              reference,
              parzen: test && scored.includes('PARZEN') ? parzenSets(test) : undefined,
              runMetrics: computeMetricsInThread,
              onProgress: (f) => {
                bar.update(f);
                if (f === 1) {
                  bar.done();
                  log('computing the metrics...');
                }
              },
            });
      if (realParzen) {
        if (!train || !test) throw new Error(`--real: dataset ${JSON.stringify(datasetName)}: ganql cannot load its images`);
        const windows = Math.min(args.samples, train.count);
        log(`parzen: windows on the first ${windows} ${datasetName} training images`);
        const ceiling = await evaluateImages({
          source: splitSource(train),
          samples: windows,
          metrics: ['PARZEN'],
          splits: 1,
          seed: args.seed,
          scorer,
          parzen: parzenSets(test),
          runMetrics: computeMetricsInThread,
        });
        output = { ...output, parzen: ceiling.parzen, parzenSamples: ceiling.parzenSamples };
      }
    } finally {
      dispose();
    }
    const nearest = args.nearest === undefined || !dataset ? undefined : await writeNearestFigure(args.nearest, dataset.name, split, model, args.seed, log);
    return {
      subject,
      dataset: datasetName,
      scorer: entry.name,
      scorerTestAccuracy: entry.manifest.testAccuracy,
      samples,
      seed: args.seed,
      splits: args.splits,
      metrics: args.metrics,
      output,
      referenceImages: reference?.stats.count ?? null,
      ...(nearest !== undefined ? { nearest } : {}),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await catalog.dispose();
  }
}

/**
 * --nearest: the model's first samples (seededLatents(seed), as scored) or, with --real, the first test
 * images, each above its nearest training image, written to `file`; and the distances, beside those of
 * held-out test images for a model.
 */
async function writeNearestFigure(
  file: string,
  datasetName: string,
  split: (name: SplitName) => Promise<DatasetSplit>,
  model: ReturnType<typeof readModel> | undefined,
  seed: number,
  log: (msg: string) => void,
): Promise<NearestReport> {
  const [train, real] = [await split('train'), await split('test')];
  log(`nearest: ${NEAREST_FIGURE_MEASURED} images against the ${train.count} ${datasetName} training images${model ? `, and as many test images` : ''}`);
  let figure;
  if (model) {
    const made = await modelSource(model.dir, model.manifest, model.generator, seed);
    try {
      const samples = { images: await made.source.read(0, NEAREST_FIGURE_MEASURED), count: NEAREST_FIGURE_MEASURED, range: made.source.range };
      figure = nearestFigure(samples, train, real);
    } finally {
      made.dispose();
    }
  } else {
    figure = nearestFigure(real, train);
  }
  writeFileSync(file, figure.png);
  return { figure: file, shown: NEAREST_FIGURE_SHOWN, subject: figure.subject, real: figure.real };
}

/** The report as lines for a terminal. */
export function formatReport(r: EvalReport): string {
  const o = r.output;
  const lines = [`${r.subject}: ${r.samples} images, seed ${r.seed}, scorer ${r.scorer} (test accuracy ${(r.scorerTestAccuracy * 100).toFixed(1)}%)`];
  if (o.inceptionScore)
    lines.push(`Inception Score  ${o.inceptionScore.mean.toFixed(3)} ± ${o.inceptionScore.std.toFixed(3)} (mean ± std over ${r.splits} splits)`);
  if (o.fid !== undefined) lines.push(`FID              ${o.fid.toFixed(3)} (vs ${r.referenceImages} ${r.dataset} training images)`);
  if (o.kid) lines.push(`KID              ${o.kid.mean.toFixed(4)} ± ${o.kid.std.toFixed(4)} (${o.kid.subsets} subsets of ${o.kid.subsetSize})`);
  if (o.parzen) {
    lines.push(
      `Parzen LL        ${o.parzen.mean.toFixed(1)} ± ${o.parzen.stdErr.toFixed(1)} nats (sigma ${o.parzen.sigma.toFixed(4)}, windows on ${o.parzenSamples} samples, pixels in [0, 1])`,
    );
  }
  if (r.nearest) {
    const { subject, real } = r.nearest;
    const describe = (d: typeof subject): string => `median ${d.median.toFixed(2)}, min ${d.min.toFixed(2)} over ${d.images} images`;
    lines.push(`Nearest training image (pixel L2, pixels in [0, 1]): ${describe(subject)}; figure ${r.nearest.figure}`);
    if (real) {
      lines.push(
        `  held-out test images: ${describe(real)}; ${((subject.closerThanRealMin ?? 0) * 100).toFixed(1)}% of the samples are closer to a training image than any of them`,
      );
    }
  }
  lines.push(`took ${formatSeconds(r.seconds)}`);
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  runEval(argv).then(
    (report) => {
      process.stdout.write(parseEvalArgs(argv).json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`eval: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
