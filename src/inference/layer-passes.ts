import * as tf from '@tensorflow/tfjs';
import { neuronActivations } from './ops/neuron-activations';

/** Generator feature maps to zero: channels `filters` of the output of `layer` (DCGAN's filter removal). */
export interface FilterRemoval {
  layer: string;
  filters: number[];
}

/** Passes that read a layer of a model instead of its output; batched by the pool like generate. */
export type LayerPass =
  /** The feature network's `layer` output per image, flattened channels last. */
  | { kind: 'featureMaps'; layer: string }
  /** The feature network's `layer` per neuron: a unit, or a feature map's spatial maximum (neuronActivations). */
  | { kind: 'neurons'; layer: string }
  /** The generator's `layer` per filter, averaged over space (units of a dense layer as they are). */
  | { kind: 'generatorMeans'; layer: string }
  /** A dense `layer` of the feature network per unit before its activation: input . kernel + bias. */
  | { kind: 'preActivations'; layer: string };

/** The pool's batching key of a pass: requests with the same key may share a batch. */
export function layerPassKey(pass: LayerPass): string {
  return `${pass.kind} ${pass.layer}`;
}

export function removalKey(removal: FilterRemoval): string {
  return `${removal.layer} ${[...removal.filters].sort((a, b) => a - b).join(',')}`;
}

/**
 * Sub-models from a network's input to one of its layers, built once per (network, layer). They share
 * the network's weights: never dispose one (that would dispose the network's layers).
 */
export class ActivationModels {
  private readonly cache = new WeakMap<tf.LayersModel, Map<string, tf.LayersModel>>();

  get(network: tf.LayersModel, layer: string): tf.LayersModel {
    let byLayer = this.cache.get(network);
    if (byLayer === undefined) {
      byLayer = new Map();
      this.cache.set(network, byLayer);
    }
    let model = byLayer.get(layer);
    if (model === undefined) {
      const names = network.layers.map((l) => l.name);
      if (!names.includes(layer)) throw new Error(`expected a layer of ${network.name} among ${names.join(', ')}, got ${JSON.stringify(layer)}`);
      model = tf.model({ inputs: network.inputs, outputs: network.getLayer(layer).output });
      byLayer.set(layer, model);
    }
    return model;
  }
}

/** `n` images row-major through the feature network up to `pass.layer`: the full output flattened, or one value per neuron. */
export async function runFeaturePass(
  models: ActivationModels,
  network: tf.LayersModel,
  pass: LayerPass,
  images: Float32Array,
  n: number,
): Promise<Float32Array> {
  const shape = network.inputs[0].shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(n) || n < 1 || images.length !== n * size)
    throw new Error(`executor: expected ${n * size} image values (${n} x ${shape.join('x')}), got ${images.length}`);
  if (pass.kind === 'preActivations') return readAndDispose(preActivations(models, network, pass.layer, images, n, shape));
  const model = models.get(network, pass.layer);
  const out = tf.tidy(() => {
    const activations = model.predict(tf.tensor(images, [n, ...shape]), { batchSize: n }) as tf.Tensor;
    return pass.kind === 'neurons' ? neuronActivations(activations) : activations.reshape([n, -1]);
  });
  return readAndDispose(out);
}

/** A dense layer's pre-activations [n, units]: its input (a sub-model up to the layer before) times its kernel, plus its bias. */
function preActivations(models: ActivationModels, network: tf.LayersModel, name: string, images: Float32Array, n: number, shape: number[]): tf.Tensor {
  // Checks the name (the error lists the layers there are) before getLayer, which would not.
  models.get(network, name);
  const layer = network.getLayer(name);
  if (layer.getClassName() !== 'Dense') throw new Error(`expected a Dense layer for pre-activations, got ${layer.getClassName()} layer ${name}`);
  const inbound = layer.inboundNodes[0]?.inboundLayers[0];
  if (inbound === undefined) throw new Error(`expected layer ${name} to read another layer`);
  const before = models.get(network, inbound.name);
  return tf.tidy(() => {
    const [kernel, bias] = layer.getWeights();
    const input = before.predict(tf.tensor(images, [n, ...shape]), { batchSize: n }) as tf.Tensor2D;
    const z = tf.matMul(input, kernel);
    return bias === undefined ? z : z.add(bias);
  });
}

/**
 * The generator's layers in order, when it is a single chain (each layer reads only the one before):
 * what filter removal and generator means walk through. Throws otherwise, naming the first branch.
 */
export function generatorChain(generator: tf.LayersModel): tf.layers.Layer[] {
  const layers = generator.layers;
  for (let i = 1; i < layers.length; i++) {
    const nodes = layers[i].inboundNodes;
    const inbound = nodes.length === 1 ? nodes[0].inboundLayers : [];
    if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
      throw new Error(
        `expected a generator whose layers form one chain, got layer ${layers[i].name} reading ${inbound.map((l) => l.name).join(', ') || 'several inputs'}`,
      );
    }
  }
  return layers.slice(1);
}

/**
 * Runs the generator on `n` latents layer by layer; at `layer` either zeroes the removal's filters
 * (returns the images) or takes each filter's spatial mean (returns n x channels).
 */
export async function runGeneratorWalk(
  generator: tf.LayersModel,
  latents: Float32Array,
  n: number,
  at: { layer: string; remove: number[] } | { layer: string; means: true },
): Promise<Float32Array> {
  const latentSize = generator.inputs[0].shape[1];
  if (typeof latentSize !== 'number' || latents.length !== n * latentSize) {
    throw new Error(`executor: expected ${n * Number(latentSize)} latent values (${n} x ${latentSize}), got ${latents.length}`);
  }
  const chain = generatorChain(generator);
  const target = chain.find((l) => l.name === at.layer);
  if (target === undefined) throw new Error(`expected a generator layer among ${chain.map((l) => l.name).join(', ')}, got ${JSON.stringify(at.layer)}`);
  const out = tf.tidy(() => {
    let x: tf.Tensor = tf.tensor2d(latents, [n, latentSize]);
    for (const layer of chain) {
      x = layer.apply(x) as tf.Tensor;
      if (layer !== target) continue;
      const channels = x.shape[x.rank - 1];
      if ('means' in at) return x.rank === 2 ? x : x.mean(x.shape.slice(1, -1).map((_, i) => i + 1));
      const bad = at.remove.find((f) => !Number.isInteger(f) || f < 0 || f >= channels);
      if (bad !== undefined) throw new Error(`expected filters of ${layer.name} in 0..${channels - 1}, got ${bad}`);
      const keep = new Float32Array(channels).fill(1);
      for (const f of at.remove) keep[f] = 0;
      x = x.mul(tf.tensor1d(keep));
    }
    return x;
  });
  return readAndDispose(out);
}

async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    // Read outside tidy: returning typed data from it makes tidy walk every element.
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
