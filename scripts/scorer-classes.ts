/**
 * What an Inception Score is made of, for generators and for real digits: the scorer's class balance
 * over the images (the entropy of its mean prediction, at most ln K) and its confidence in each image
 * (the mean entropy of its predictions, 0 when sure), whose difference is the log of a one-split IS.
 *
 *   npx tsx scripts/scorer-classes.ts [--samples 10000] [--seed 0] [--scorer models/scorers/mnist-cnn] [models/dcgan-mnist ...]
 *
 * Each model folder's samples come as `npm run eval -- --model DIR --seed S` makes them; the real row
 * is the dataset's 1,000 held-out digits (`--real`). Prints, per row: H(y), E[H(y|x)], exp of their
 * difference, the mean top probability and how many images the scorer files under each class.
 */
import path from 'node:path';
import { initBackend } from '../src/backend/backend';
import { modelSource, readModel } from '../src/evaluation/eval.cli';
import { scoreImages, splitSource, type ImageSource } from '../src/evaluation/evaluator';
import { REFERENCE_DATASETS } from '../src/evaluation/reference-datasets';
import { loadScorer, type Scorer } from '../src/evaluation/scorer';
import { numberArg, stringArg } from '../bench/lib/cli-args';

async function row(scorer: Scorer, name: string, source: ImageSource, n: number): Promise<string> {
  const { probs } = await scoreImages(scorer, source, n);
  const k = probs.cols;
  const marginal = new Array<number>(k).fill(0);
  const counts = new Array<number>(k).fill(0);
  let conditional = 0;
  let top = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestClass = 0;
    for (let c = 0; c < k; c++) {
      const p = probs.data[i * k + c];
      marginal[c] += p / n;
      if (p > 0) conditional -= (p * Math.log(p)) / n;
      if (p > best) [best, bestClass] = [p, c];
    }
    top += best / n;
    counts[bestClass] += 1;
  }
  const balance = -marginal.reduce((sum, p) => sum + (p > 0 ? p * Math.log(p) : 0), 0);
  return `| ${name} | ${n.toLocaleString('en-US')} | ${balance.toFixed(3)} | ${conditional.toFixed(3)} | ${Math.exp(balance - conditional).toFixed(2)} | ${top.toFixed(3)} | ${counts.join(' ')} |`;
}

async function main(): Promise<void> {
  const samples = numberArg('samples', 10_000, 100, 100_000);
  const seed = numberArg('seed', 0, 0, 2 ** 31 - 1);
  await initBackend({ order: ['wasm'] });
  const scorer = await loadScorer(path.resolve(stringArg('scorer', 'models/scorers/mnist-cnn')));
  const models = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const dataset = REFERENCE_DATASETS.get(scorer.manifest.dataset);
  if (dataset === undefined) throw new Error(`--scorer: expected a scorer of a dataset ganql loads, got one of ${scorer.manifest.dataset}`);
  console.log(`scorer ${path.basename(scorer.dir)}; ln ${scorer.manifest.classes} = ${Math.log(scorer.manifest.classes).toFixed(3)}`);
  console.log('| images | n | H(y) | E[H(y\\|x)] | exp(difference) | mean top p | images per class |');
  console.log('|---|---|---|---|---|---|---|');
  const real = await dataset.load('test');
  console.log(await row(scorer, `real held-out ${dataset.name} images`, splitSource(real), real.count));
  for (const dir of models.length > 0 ? models : ['models/dcgan-mnist', 'models/mnist-mlp-gan']) {
    const { manifest, generator: entry } = readModel(path.resolve(dir));
    const { source, dispose } = await modelSource(path.resolve(dir), manifest, entry, seed);
    try {
      console.log(await row(scorer, `${manifest.name}@${manifest.version} samples, seed ${seed}`, source, samples));
    } finally {
      dispose();
    }
  }
  scorer.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
