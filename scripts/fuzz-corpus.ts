/**
 * Writes a seeded hostile corpus for ganql's /graphql as JSON lines (one FuzzCase a line; see
 * bench/lib/hostile-corpus.ts), to replay with bench/replay-corpus.ts.
 *
 *   npx tsx scripts/fuzz-corpus.ts [--seed 1] [--cases 2000] [--out corpus.jsonl]
 *       [--model-id dcgan-mnist@2026-12-06T04-16] [--classifier-model-id <K+1 model id>]
 *       [--latent-size 100] [--sample-ids id1,id2]
 *
 * Without --out the lines go to stdout. Cases marked "auth": "admin" get the replayer's --key.
 */
import { createWriteStream } from 'node:fs';
import { DEFAULT_TARGETS, generateCorpus } from '../bench/lib/hostile-corpus';
import { numberArg, stringArg } from '../bench/lib/cli-args';

function main(): void {
  const seed = numberArg('seed', 1, 0, 2 ** 31 - 1);
  const cases = numberArg('cases', 2000, 1, 1_000_000);
  const modelId = stringArg('model-id', DEFAULT_TARGETS.modelId);
  const sampleIds = stringArg('sample-ids', '')
    .split(',')
    .filter((s) => s !== '');
  const targets = {
    modelId,
    classifierModelId: stringArg('classifier-model-id', modelId),
    latentSize: numberArg('latent-size', DEFAULT_TARGETS.latentSize, 1, 4096),
    sampleIds,
  };
  const outPath = stringArg('out', '');
  const out = outPath === '' ? process.stdout : createWriteStream(outPath);
  const corpus = generateCorpus(seed, cases, targets);
  for (const c of corpus) out.write(`${JSON.stringify(c)}\n`);
  if (out !== process.stdout) out.end(() => console.error(`wrote ${corpus.length} cases (seed ${seed}) to ${outPath}`));
}

main();
