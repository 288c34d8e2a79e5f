/**
 * Raw forward throughput of a shipped generator as served (batchnorm folded), in-process on this
 * machine's backend, by batch size.
 *
 *   npx tsx bench/forward.ts [--model models/dcgan-mnist] [--backend wasm] [--seconds 3]
 *
 * Prints samples/s per batch size and each as a ratio of batch size 1, from one run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend, type BackendName } from '../src/backend/backend';
import { parseManifest } from '../src/models/manifest';
import { loadServedGenerator, timeForward } from './lib/forward-timing';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const dir = path.resolve(arg('model', 'models/dcgan-mnist'));
  const seconds = Number(arg('seconds', '3'));
  const backend = await initBackend({ order: [arg('backend', 'wasm') as BackendName] });
  const manifest = parseManifest(JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')), dir);
  const generator = await loadServedGenerator(path.join(dir, manifest.generatorPath));
  console.log(`model ${manifest.name}@${manifest.version}, backend ${backend.name} (custom kernels: ${backend.customKernels.join(', ') || 'none'})`);
  console.log('batch  samples/s  ms/batch  ratio-to-b1');
  let base = 0;
  for (const batch of [1, 8, 32, 64, 128, 256]) {
    const t = timeForward(generator, manifest.latentSize, batch, seconds);
    if (batch === 1) base = t.samplesPerSecond;
    console.log(`${String(batch).padStart(5)}  ${t.samplesPerSecond.toFixed(1).padStart(9)}  ${t.msPerBatch.toFixed(2).padStart(8)}  ${(t.samplesPerSecond / base).toFixed(2).padStart(11)}x`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
