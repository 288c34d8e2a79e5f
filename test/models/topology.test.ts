import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/backend';
import { modelFromTopology, topologyOf } from '../../src/models/topology';

describe('topologyOf / modelFromTopology', () => {
  beforeAll(async () => {
    await initBackend({ order: ['wasm'] });
  });

  it('copies a functional topology that can be edited and rebuilt without touching the model', async () => {
    const x = tf.input({ shape: [3] });
    const h = tf.layers.dense({ units: 4, name: 'h' }).apply(x) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 2, name: 'y' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const topology = topologyOf(model, 'test');
    expect(topology.config.layers.map((l) => l.name)).toEqual([model.layers[0].name, 'h', 'y']);
    expect(topology.config.layers[2].inbound_nodes[0][0].slice(0, 3)).toEqual(['h', 0, 0]);
    expect(topology.config.output_layers).toEqual([['y', 0, 0]]);
    topology.config.layers[1].config.units = 5;
    const before = tf.memory().numTensors;
    const rebuilt = await modelFromTopology(topology);
    expect(rebuilt.getLayer('h').outputShape).toEqual([null, 5]);
    expect(model.getLayer('h').outputShape).toEqual([null, 4]);
    rebuilt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses a model that is not functional, naming the caller and the class', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => topologyOf(model, 'foldBatchNorm')).toThrow('foldBatchNorm: expected a functional model topology with layers and inbound_nodes, got class Sequential');
    model.dispose();
  });
});
