/**
 * What an Inception Score is made of, for generators and for real digits: the scorer's class balance
 * over the images (the entropy of its mean prediction, at most ln K) and its confidence in each image
 * (the mean entropy of its predictions, 0 when sure), whose difference is the log of a one-split IS.
 *
 *   npx tsx scripts/scorer-classes.ts [--samples 10000] [--seed 0] [--scorer models/scorers/mnist-cnn] [models/dcgan-mnist ...]
 *
 * Each model folder's generator runs on `--samples` latents of `--seed` (as `samples(seed)` draws them); the
 * real row is the 1,000 held-out digits. Prints, per row: H(y), E[H(y|x)], exp of their difference,
 * the mean top probability and how many images the scorer files under each class.
 */
import path from 'node:path';
import { initBackend } from '../src/backend/backend';
import { loadMnist } from '../src/data/mnist';
import { loadScorer, type Scorer } from '../src/evaluation/scorer';
import { runGenerator } from '../src/inference/run-generator';
import { generatorOf, readManifest } from '../src/models/manifest';
import { loadServedGenerator } from '../src/models/served-generator';
import { seededLatents } from '../src/samples/latents';
import { numberArg, stringArg } from '../bench/lib/cli-args';

/** Generators' and the dataset's pixels are in [-1, 1]. */
const RANGE: [number, number] = [-1, 1];

async function row(scorer: Scorer, name: string, images: Float32Array, n: number): Promise<string> {
  const { probs } = await scorer.predict(images, n, [28, 28, 1], { range: RANGE });
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
  console.log(`scorer ${path.basename(scorer.dir)}; ln ${scorer.manifest.classes} = ${Math.log(scorer.manifest.classes).toFixed(3)}`);
  console.log('| images | n | H(y) | E[H(y\\|x)] | exp(difference) | mean top p | images per class |');
  console.log('|---|---|---|---|---|---|---|');
  const real = loadMnist({ split: 'test' });
  console.log(await row(scorer, 'real held-out digits', real.images, real.count));
  for (const dir of models.length > 0 ? models : ['models/dcgan-mnist', 'models/mnist-mlp-gan']) {
    const manifest = readManifest(path.resolve(dir));
    const entry = generatorOf(manifest);
    if (entry === undefined) throw new Error(`${dir}: expected a model with a generator, got one without`);
    const generator = await loadServedGenerator(path.resolve(dir, entry.path));
    const latents = new Float32Array(samples * entry.latentSize);
    seededLatents(seed, samples, entry.latentSize).forEach((l, i) => latents.set(l, i * entry.latentSize));
    console.log(await row(scorer, `${manifest.name}@${manifest.version} samples, seed ${seed}`, await runGenerator(generator, latents, samples), samples));
    generator.dispose();
  }
  scorer.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
