import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/backend/backend';
import { buildGenerator, buildDiscriminator } from './src/models/dcgan';
import { DcganTrainer } from './src/training/dcgan-trainer';
import { loadMnist } from './src/data/mnist';
(async () => {
  await initBackend({ order: ['wasm'] });
  const G = buildGenerator({}), D = buildDiscriminator({});
  const m = loadMnist({ split: 'train', limit: 640 });
  const tr = new DcganTrainer(G, D, { images: m.images, count: m.count, shape: [28, 28, 1] }, {});
  await tr.trainEpoch(0, undefined, 2);
  const prof = await tf.profile(async () => { await tr.trainEpoch(1, undefined, 1); });
  const agg = new Map<string, [number, number]>();
  for (const k of prof.kernels) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); const a = agg.get(key) ?? [0, 0]; a[0] += Number(k.kernelTimeMs); a[1]++; agg.set(key, a); }
  const rows = [...agg.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25);
  let tot = 0; for (const [, [t]] of agg) tot += t;
  console.log('total kernel ms', tot.toFixed(0));
  for (const [k, [t, n]] of rows) console.log(t.toFixed(1), n, k);
})();
