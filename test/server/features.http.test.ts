import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/images/png';
import { MODELS_DIR, startTestServer, type TestServer } from '../helpers/server';

// Le et al. 2012 and Radford et al. 2015's feature analyses on the shipped models, over HTTP.
let server: TestServer;
let dcgan: string;

interface LayerInfo {
  name: string;
  className: string;
  outputShape: number[];
  neurons: number;
}

interface ModelLayers {
  id: string;
  architecture: string;
  featureNetworkRole: string | null;
  featureLayers: LayerInfo[] | null;
  generatorLayers: LayerInfo[];
}

async function models(): Promise<ModelLayers[]> {
  const body = await server.gql<{ models: ModelLayers[] }>(
    '{ models { id architecture featureNetworkRole featureLayers { name className outputShape neurons } generatorLayers { name className outputShape neurons } } }',
  );
  expect(body.errors).toBeUndefined();
  return body.data!.models;
}

async function runOf(id: string): Promise<{ kind: string; status: string; result: Record<string, unknown> }> {
  const body = await server.gql<{ run: { kind: string; status: string; result: Record<string, unknown> } }>(
    'query($id: ID!) { run(id: $id) { kind status result } }',
    { id },
  );
  expect(body.errors).toBeUndefined();
  return body.data!.run;
}

const pixelsOf = (dataUrl: string): Uint8Array => decodePng(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64')).data;

beforeAll(async () => {
  server = await startTestServer();
  const all = await models();
  dcgan = all.find((m) => m.id.startsWith('dcgan-mnist@'))!.id;
});

afterAll(async () => {
  await server?.stop();
});

const PROBE = `query($modelId: ID!, $layer: String!, $concept: String!, $neurons: Int, $topImages: Int) {
  neuronProbe(modelId: $modelId, layer: $layer, concept: $concept, neurons: $neurons, topImages: $topImages) {
    runId modelId concept positives negatives layer { name neurons }
    neurons { neuron accuracy threshold topImages { index label activation image { width height dataUrl } } }
  }
}`;

const STIMULUS = `query($modelId: ID!, $layer: String!, $neuron: Int!, $steps: Int) {
  optimalStimulus(modelId: $modelId, layer: $layer, neuron: $neuron, steps: $steps) {
    runId neuron activation trace steps stepSize maxNorm norm meanTestNorm maxTestActivation preActivation maxTestPreActivation exceedsEveryTestImage
    image { width height channels dataUrl } bestTestImage { index label activation }
  }
}`;

const CLASSIFIER = `query($modelId: ID!, $layers: [String!]!, $labelsPerClass: Int!) {
  featureClassifier(modelId: $modelId, layers: $layers, labelsPerClass: $labelsPerClass) {
    runId trainCount testCount layers { name }
    features { accuracy testError c features crossValidation { c accuracy } }
    rawPixels { accuracy testError c features }
  }
}`;

interface Probe {
  runId: string;
  positives: number;
  negatives: number;
  neurons: {
    neuron: number;
    accuracy: number;
    threshold: number | null;
    topImages: { index: number; label: string; activation: number; image: { dataUrl: string } }[];
  }[];
}

interface Stimulus {
  runId: string;
  activation: number;
  trace: number[];
  maxNorm: number;
  norm: number;
  meanTestNorm: number;
  maxTestActivation: number;
  preActivation: number | null;
  maxTestPreActivation: number | null;
  exceedsEveryTestImage: boolean;
  image: { width: number; height: number; channels: number; dataUrl: string };
}

describe('the layers a model offers', () => {
  it("lists the DCGAN discriminator's feature layers and the served generator's layers", async () => {
    const model = (await models()).find((m) => m.id === dcgan)!;
    expect(model.featureNetworkRole).toBe('discriminator');
    expect(model.featureLayers!.map((l) => l.name)).toEqual(['d_down1', 'd_down1_lrelu', 'd_down2', 'd_down2_bn', 'd_down2_lrelu', 'd_logit']);
    expect(model.featureLayers!.find((l) => l.name === 'd_down2_lrelu')).toEqual({
      name: 'd_down2_lrelu',
      className: 'LeakyReLU',
      outputShape: [7, 7, 128],
      neurons: 128,
    });
    // Batchnorms are folded into the served generator: not nameable.
    expect(model.generatorLayers.map((l) => l.name)).toEqual(['g_project', 'g_project_relu', 'g_reshape', 'g_up1', 'g_up1_relu', 'g_up2']);
    expect(model.generatorLayers.find((l) => l.name === 'g_reshape')!.neurons).toBe(128);
  });
});

describe('on the dcgan-mnist discriminator', () => {
  it('neuronProbe: the best d_down2_lrelu feature map for digit 0 is well above chance, on a balanced set', async () => {
    const body = await server.gql<{ neuronProbe: Probe }>(PROBE, { modelId: dcgan, layer: 'd_down2_lrelu', concept: '0', neurons: 5, topImages: 4 });
    expect(body.errors).toBeUndefined();
    const probe = body.data!.neuronProbe;
    // Every "0" of the 1,000 held-out digits, and as many others.
    expect(probe.positives).toBe(78);
    expect(probe.negatives).toBe(78);
    const accuracies = probe.neurons.map((n) => n.accuracy);
    console.log(`dcgan d_down2_lrelu, digit 0: best feature maps ${probe.neurons.map((n) => `#${n.neuron} ${n.accuracy.toFixed(3)}`).join(', ')} (chance 0.5)`);
    expect(accuracies).toEqual([...accuracies].sort((a, b) => b - a));
    expect(accuracies[0]).toBeGreaterThanOrEqual(0.7);
    for (const n of probe.neurons) {
      const acts = n.topImages.map((t) => t.activation);
      expect(acts).toEqual([...acts].sort((a, b) => b - a));
      expect(pixelsOf(n.topImages[0].image.dataUrl)).toHaveLength(28 * 28);
    }
    const run = await runOf(probe.runId);
    expect(run).toMatchObject({ kind: 'NEURON_PROBE', status: 'SUCCEEDED' });
    expect((run.result.best as { accuracy: number }[])[0].accuracy).toBe(accuracies[0]);
  });

  it('optimalStimulus: within the mean test-image norm, it activates the neuron more than every test image', async () => {
    const body = await server.gql<{ optimalStimulus: Stimulus }>(STIMULUS, { modelId: dcgan, layer: 'd_down2_lrelu', neuron: 3, steps: 60 });
    expect(body.errors).toBeUndefined();
    const s = body.data!.optimalStimulus;
    console.log(
      `dcgan d_down2_lrelu #3: stimulus ${s.activation.toFixed(3)} vs best test image ${s.maxTestActivation.toFixed(3)}; norm ${s.norm.toFixed(2)} <= ${s.maxNorm.toFixed(2)}`,
    );
    expect(s.maxNorm).toBe(s.meanTestNorm);
    expect(s.norm).toBeLessThanOrEqual(s.maxNorm * (1 + 1e-5));
    expect(s.trace).toHaveLength(61);
    expect(s.activation).toBe(Math.max(...s.trace));
    expect(s.activation).toBeGreaterThan(s.maxTestActivation);
    // A conv feature map (LeakyReLU, no saturation) is compared on its activation alone.
    expect(s.preActivation).toBeNull();
    expect(s.exceedsEveryTestImage).toBe(true);
    expect(pixelsOf(s.image.dataUrl)).toHaveLength(28 * 28);
    expect((await runOf(s.runId)).kind).toBe('OPTIMAL_STIMULUS');
  });

  it('featureClassifier: max-pooled discriminator features beat raw pixels with the same 10 labels per class', async () => {
    const body = await server.gql<{
      featureClassifier: {
        runId: string;
        trainCount: number;
        testCount: number;
        features: { accuracy: number; testError: number; c: number; features: number };
        rawPixels: { accuracy: number; c: number; features: number };
      };
    }>(CLASSIFIER, { modelId: dcgan, layers: ['d_down1_lrelu', 'd_down2_lrelu'], labelsPerClass: 10 });
    expect(body.errors).toBeUndefined();
    const r = body.data!.featureClassifier;
    console.log(
      `dcgan featureClassifier, 10 labels/class: features ${r.features.accuracy.toFixed(3)} (C ${r.features.c}, ${r.features.features} features) vs raw pixels ${r.rawPixels.accuracy.toFixed(3)} (C ${r.rawPixels.c})`,
    );
    expect(r.trainCount).toBe(100);
    expect(r.testCount).toBe(1000);
    // 4x4 x 64 + 4x4 x 128.
    expect(r.features.features).toBe(1024 + 2048);
    expect(r.rawPixels.features).toBe(784);
    expect(r.features.testError).toBeCloseTo(1 - r.features.accuracy, 12);
    expect(r.features.accuracy).toBeGreaterThan(r.rawPixels.accuracy);
    const run = await runOf(r.runId);
    expect(run).toMatchObject({ kind: 'FEATURE_CLASSIFIER', status: 'SUCCEEDED' });
  });

  it('conceptFilters: zeroing the g_reshape maps found for "8" lowers the scorer\'s confidence in the 8s, more than in the other digits', async () => {
    // 20 of g_reshape's 128 maps: a digit's identity is spread over many of them.
    const body = await server.gql<{
      conceptFilters: {
        runId: string;
        filters: { filter: number; weight: number }[];
        positiveFilters: number;
        conceptSamples: number;
        check: { conceptSamples: number; before: Record<string, number>; after: Record<string, number> };
      };
    }>(
      `{ conceptFilters(modelId: "${dcgan}", layer: "g_reshape", concept: "8", count: 20, samples: 500, checkSamples: 200) {
          runId filters { filter weight } positiveFilters conceptSamples
          check { conceptSamples before { meanProbability share conceptSampleProbability otherSampleProbability } after { meanProbability share conceptSampleProbability otherSampleProbability } }
        } }`,
    );
    expect(body.errors).toBeUndefined();
    const r = body.data!.conceptFilters;
    const { before, after } = r.check;
    console.log(
      `dcgan conceptFilters "8" on g_reshape, filters ${r.filters.map((f) => f.filter).join(',')} (${r.positiveFilters} positive): P(8) on the ${r.check.conceptSamples} check 8s ${before.conceptSampleProbability.toFixed(3)} -> ${after.conceptSampleProbability.toFixed(3)}; others' own-label P ${before.otherSampleProbability.toFixed(3)} -> ${after.otherSampleProbability.toFixed(3)}; share of 8s ${before.share} -> ${after.share}`,
    );
    expect(r.filters).toHaveLength(20);
    const weights = r.filters.map((f) => f.weight);
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
    expect(weights.at(-1)).toBeGreaterThan(0);
    expect(r.check.conceptSamples).toBeGreaterThan(0);
    expect(after.conceptSampleProbability).toBeLessThan(before.conceptSampleProbability - 0.1);
    const conceptDrop = before.conceptSampleProbability - after.conceptSampleProbability;
    const otherDrop = before.otherSampleProbability - after.otherSampleProbability;
    expect(conceptDrop).toBeGreaterThan(otherDrop);
    expect(after.share).toBeLessThan(before.share);
    expect(await runOf(r.runId)).toMatchObject({ kind: 'CONCEPT_FILTERS', status: 'SUCCEEDED' });
  });

  it('samples(removeFilters) generates other images, and sample(id) regenerates them with the removal', async () => {
    const query = `query($removeFilters: FilterRemovalInput) { samples(modelId: "${dcgan}", seed: 11, count: 2, removeFilters: $removeFilters) { id runId image { dataUrl } } }`;
    const plain = await server.gql<{ samples: { id: string; runId: string; image: { dataUrl: string } }[] }>(query);
    const removed = await server.gql<typeof plain.data>(query, { removeFilters: { layer: 'g_reshape', filters: [1, 5, 9, 20, 33, 60] } });
    expect(plain.errors).toBeUndefined();
    expect(removed.errors).toBeUndefined();
    const a = plain.data!.samples;
    const b = removed.data!.samples;
    expect(b[0].image.dataUrl).not.toBe(a[0].image.dataUrl);
    const again = await server.gql<{ sample: { image: { dataUrl: string } } }>('query($id: ID!) { sample(id: $id) { image { dataUrl } } }', { id: b[0].id });
    expect(again.data!.sample.image.dataUrl).toBe(b[0].image.dataUrl);
    const plainAgain = await server.gql<{ sample: { image: { dataUrl: string } } }>('query($id: ID!) { sample(id: $id) { image { dataUrl } } }', {
      id: a[0].id,
    });
    expect(plainAgain.data!.sample.image.dataUrl).toBe(a[0].image.dataUrl);
    const run = await server.gql<{ run: { parameters: { removeFilters: unknown } } }>('query($id: ID!) { run(id: $id) { parameters } }', { id: b[0].runId });
    expect(run.data!.run.parameters.removeFilters).toEqual({ layer: 'g_reshape', filters: [1, 5, 9, 20, 33, 60] });
  });
});

describe('tensors', () => {
  it('the analyses leave no tensors behind, on the pool or on the server thread (the scorer runs there)', async () => {
    const poolTensors = async () =>
      (await server.gql<{ serverInfo: { pool: { tensors: number } } }>('{ serverInfo { pool { tensors } } }')).data!.serverInfo.pool.tensors;
    const all = async () => {
      const bodies = [
        await server.gql(PROBE, { modelId: dcgan, layer: 'd_down1', concept: '3', neurons: 1, topImages: 1 }),
        await server.gql(STIMULUS, { modelId: dcgan, layer: 'd_down1', neuron: 0, steps: 3 }),
        await server.gql(CLASSIFIER, { modelId: dcgan, layers: ['d_logit'], labelsPerClass: 2 }),
        await server.gql(`{ conceptFilters(modelId: "${dcgan}", layer: "g_up1_relu", concept: "0", count: 2, samples: 50, checkSamples: 10) { runId } }`),
        await server.gql(`{ samples(modelId: "${dcgan}", count: 2, removeFilters: { layer: "g_up1", filters: [0] }) { id } }`),
      ];
      for (const body of bodies) expect(body.errors).toBeUndefined();
    };
    // The first pass builds what is kept (the layers' sub-models, the scorer): count after it.
    await all();
    const before = { pool: await poolTensors(), main: tf.memory().numTensors };
    expect(before.pool).toBeGreaterThan(0);
    await all();
    expect({ pool: await poolTensors(), main: tf.memory().numTensors }).toEqual(before);
  });
});

const AUTOENCODER_SHIPPED = existsSync(path.join(MODELS_DIR, 'mnist-autoencoder', 'manifest.json'));

describe.skipIf(!AUTOENCODER_SHIPPED)('on the shipped feature learner (models/mnist-autoencoder)', () => {
  let model: ModelLayers;

  beforeAll(async () => {
    model = (await models()).find((m) => m.architecture === 'autoencoder')!;
    expect(model.featureNetworkRole).toBe('encoder');
  });

  it('has a neuron well above chance for some digit; its optimal stimulus beats every test image', async () => {
    const layers = model.featureLayers!.filter((l) => l.outputShape.length === 1);
    expect(layers.length).toBeGreaterThan(0);
    let best = { digit: '', layer: '', neuron: -1, accuracy: 0 };
    const table: string[] = [];
    for (const layer of layers) {
      const row: string[] = [];
      for (const digit of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
        const body = await server.gql<{ neuronProbe: Probe }>(PROBE, { modelId: model.id, layer: layer.name, concept: digit, neurons: 1, topImages: 1 });
        expect(body.errors).toBeUndefined();
        const top = body.data!.neuronProbe.neurons[0];
        row.push(`${digit}: #${top.neuron} ${top.accuracy.toFixed(3)}`);
        if (top.accuracy > best.accuracy) best = { digit, layer: layer.name, neuron: top.neuron, accuracy: top.accuracy };
      }
      table.push(`${layer.name} (${layer.neurons} units): ${row.join(', ')}`);
    }
    console.log(
      `${model.id} best neuron per digit (balanced accuracy, chance 0.5):\n${table.join('\n')}\nbest: digit ${best.digit}, ${best.layer} #${best.neuron}, ${best.accuracy.toFixed(3)}`,
    );
    expect(best.accuracy).toBeGreaterThanOrEqual(0.8);

    const body = await server.gql<{ optimalStimulus: Stimulus }>(STIMULUS, { modelId: model.id, layer: best.layer, neuron: best.neuron, steps: 200 });
    expect(body.errors).toBeUndefined();
    const s = body.data!.optimalStimulus;
    console.log(
      `${model.id} ${best.layer} #${best.neuron}: stimulus ${s.activation.toFixed(7)} vs best test image ${s.maxTestActivation.toFixed(7)}; ` +
        `pre-activation ${s.preActivation?.toFixed(2)} vs ${s.maxTestPreActivation?.toFixed(2)} (norm ${s.norm.toFixed(2)} <= ${s.maxNorm.toFixed(2)})`,
    );
    expect(s.norm).toBeLessThanOrEqual(s.maxNorm * (1 + 1e-5));
    // The encoder's units are sigmoids: compared where float32 does not round both to 1.
    expect(s.preActivation).not.toBeNull();
    expect(s.preActivation!).toBeGreaterThan(s.maxTestPreActivation!);
    expect(s.activation).toBeGreaterThanOrEqual(s.maxTestActivation);
    expect(s.exceedsEveryTestImage).toBe(true);
  });

  it("featureClassifier: the encoder's features beat raw pixels with the same 10 labels per class", async () => {
    const layers = model.featureLayers!.filter((l) => l.outputShape.length === 1).map((l) => l.name);
    const body = await server.gql<{ featureClassifier: { features: { accuracy: number; c: number; features: number }; rawPixels: { accuracy: number } } }>(
      CLASSIFIER,
      {
        modelId: model.id,
        layers,
        labelsPerClass: 10,
      },
    );
    expect(body.errors).toBeUndefined();
    const r = body.data!.featureClassifier;
    console.log(
      `${model.id} featureClassifier on ${layers.join('+')}, 10 labels/class: ${r.features.accuracy.toFixed(3)} (${r.features.features} features) vs raw pixels ${r.rawPixels.accuracy.toFixed(3)}`,
    );
    expect(r.features.accuracy).toBeGreaterThan(r.rawPixels.accuracy);
  });
});
