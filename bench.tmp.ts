import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/backend/backend';
import { buildGenerator, buildDiscriminator } from './src/models/dcgan';
import { DcganTrainer } from './src/training/dcgan-trainer';
import { loadMnist } from './src/data/mnist';
(async () => {
  await initBackend({ order: ['wasm'], log: console.error });
  const gf = Number(process.argv[2] ?? 32), df = Number(process.argv[3] ?? 32);
  const G = buildGenerator({ generatorFilters: gf }), D = buildDiscriminator({ discriminatorFilters: df });
  console.log('params G', G.countParams(), 'D', D.countParams());
  const m = loadMnist({ split: 'train', limit: 640 });
  const tr = new DcganTrainer(G, D, { images: m.images, count: m.count, shape: [28, 28, 1] }, {});
  await tr.trainEpoch(0, (p) => console.log(p.step, p.losses, p.msPerStep.toFixed(0), tf.memory().numTensors), 6);
})();
