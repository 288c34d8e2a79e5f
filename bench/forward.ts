/**
 * Raw forward throughput of a shipped generator as served (batchnorm folded), in-process on this
 * machine's backend, by batch size.
 *
 *   npx tsx bench/forward.ts [--model models/dcgan-mnist] [--backend wasm] [--seconds 3]
 *
 * Prints samples/s per batch size and each as a ratio of batch size 1, from one run.
 */
import path from 'node:path';
import { initBackend, type BackendName } from '../src/backend/backend';
import { generatorOf, readManifest } from '../src/models/manifest';
import { loadServedGenerator } from '../src/models/served-generator';
import { numberArg, stringArg } from './lib/cli-args';
import { timeForward } from './lib/forward-timing';

async function main(): Promise<void> {
  const dir = path.resolve(stringArg('model', 'models/dcgan-mnist'));
  const seconds = numberArg('seconds', 3, 0.1, 600);
  // initBackend refuses a name it does not know, naming the ones it does.
  const backend = await initBackend({ order: [stringArg('backend', 'wasm') as BackendName] });
  const manifest = readManifest(dir);
  const entry = generatorOf(manifest);
  if (entry === undefined) throw new Error(`${dir}: expected a model with a generator, got one without`);
  const generator = await loadServedGenerator(path.join(dir, entry.path));
  console.log(`model ${manifest.name}@${manifest.version}, backend ${backend.name} (custom kernels: ${backend.customKernels.join(', ') || 'none'})`);
  console.log('batch  samples/s  ms/batch  ratio-to-b1');
  let base = 0;
  for (const batch of [1, 8, 32, 64, 128, 256]) {
    const t = timeForward(generator, entry.latentSize, batch, seconds);
    if (batch === 1) base = t.samplesPerSecond;
    console.log(
      `${String(batch).padStart(5)}  ${t.samplesPerSecond.toFixed(1).padStart(9)}  ${t.msPerBatch.toFixed(2).padStart(8)}  ${(t.samplesPerSecond / base).toFixed(2).padStart(11)}x`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
