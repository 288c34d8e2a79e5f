import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, startTestServer, type TestServer } from '../helpers/server';

// Bad input to the feature analyses: each a coded error and a FAILED run of its kind.
let server: TestServer;
let dir: string;
const DCGAN = JSON.parse(readFileSync(path.join(MODELS_DIR, 'dcgan-mnist', 'manifest.json'), 'utf8')) as { name: string; version: string };
const dcgan = `${DCGAN.name}@${DCGAN.version}`;
const bare = 'dcgan-no-discriminator@1';

beforeAll(async () => {
  // The shipped DCGAN, and a copy of it without its discriminator: a model with no feature network.
  dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-features-'));
  const models = path.join(dir, 'models');
  cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(models, 'dcgan-mnist'), { recursive: true });
  cpSync(path.join(MODELS_DIR, 'dcgan-mnist', 'generator'), path.join(models, 'bare', 'generator'), { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, 'dcgan-mnist', 'manifest.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.discriminatorPath;
  writeFileSync(path.join(models, 'bare', 'manifest.json'), JSON.stringify({ ...manifest, name: 'dcgan-no-discriminator', version: '1' }));
  server = await startTestServer({ modelsDir: models, scorersDir: path.join(MODELS_DIR, 'scorers') });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function newestRun(): Promise<{ total: number; run: { kind: string; status: string; errorCode: string; errorMessage: string; modelId: string | null } }> {
  const body = await server.gql<{
    runs: { totalCount: number; edges: { node: { kind: string; status: string; errorCode: string; errorMessage: string; modelId: string | null } }[] };
  }>('{ runs(first: 1) { totalCount edges { node { kind status errorCode errorMessage modelId } } } }');
  expect(body.errors).toBeUndefined();
  return { total: body.data!.runs.totalCount, run: body.data!.runs.edges[0]?.node };
}

const probe = (model: string, layer: string, concept: string, extra = '') =>
  `{ neuronProbe(modelId: "${model}", layer: "${layer}", concept: "${concept}"${extra}) { runId } }`;
const stimulus = (layer: string, neuron: number, extra = '') =>
  `{ optimalStimulus(modelId: "${dcgan}", layer: "${layer}", neuron: ${neuron}${extra}) { runId } }`;
const classifier = (layers: string[], labelsPerClass: number) =>
  `{ featureClassifier(modelId: "${dcgan}", layers: ${JSON.stringify(layers)}, labelsPerClass: ${labelsPerClass}) { runId } }`;
const filters = (layer: string, concept: string, extra = '') =>
  `{ conceptFilters(modelId: "${dcgan}", layer: "${layer}", concept: "${concept}"${extra}) { runId } }`;

const cases: { name: string; query: string; code: string; message: RegExp; kind: string }[] = [
  { name: 'unknown model', query: probe('ghost@1', 'd_down1', '0'), code: 'NOT_FOUND', message: /model "ghost@1" not found/, kind: 'NEURON_PROBE' },
  {
    name: 'a model without a feature network',
    query: probe(bare, 'd_down1', '0'),
    code: 'BAD_USER_INPUT',
    message: new RegExp(`modelId: expected a model with a feature network .*got ${bare}, which has none; models with one here: ${dcgan}`),
    kind: 'NEURON_PROBE',
  },
  {
    name: 'unknown layer',
    query: probe(dcgan, 'd_flatten', '0'),
    code: 'BAD_USER_INPUT',
    message: /layer: expected a layer of the feature network of .*: d_down1 \(Conv2D \[14, 14, 64\]\), .*d_logit \(Dense \[1\]\); got "d_flatten"/,
    kind: 'NEURON_PROBE',
  },
  {
    name: 'concept outside the classes',
    query: probe(dcgan, 'd_down1', 'cat'),
    code: 'BAD_USER_INPUT',
    message: /concept: expected one of the classes of mnist .*"0", "1", .*"9"; got "cat"/,
    kind: 'NEURON_PROBE',
  },
  {
    name: 'too many neurons asked',
    query: probe(dcgan, 'd_down1', '0', ', neurons: 65'),
    code: 'BAD_USER_INPUT',
    message: /neurons: expected an integer in 1\.\.64, got 65/,
    kind: 'NEURON_PROBE',
  },
  {
    name: 'neuron out of range',
    query: stimulus('d_down2_lrelu', 128),
    code: 'BAD_USER_INPUT',
    message: /neuron: expected an integer in 0\.\.127, got 128/,
    kind: 'OPTIMAL_STIMULUS',
  },
  {
    name: 'negative neuron',
    query: stimulus('d_logit', -1),
    code: 'BAD_USER_INPUT',
    message: /neuron: expected an integer in 0\.\.0, got -1/,
    kind: 'OPTIMAL_STIMULUS',
  },
  {
    name: 'steps out of range',
    query: stimulus('d_logit', 0, ', steps: 0'),
    code: 'BAD_USER_INPUT',
    message: /steps: expected an integer in 1\.\.2000, got 0/,
    kind: 'OPTIMAL_STIMULUS',
  },
  {
    name: 'maxNorm not positive',
    query: stimulus('d_logit', 0, ', maxNorm: 0'),
    code: 'BAD_USER_INPUT',
    message: /maxNorm: expected a number > 0, got 0/,
    kind: 'OPTIMAL_STIMULUS',
  },
  {
    name: 'labelsPerClass below 2',
    query: classifier(['d_down1'], 1),
    code: 'BAD_USER_INPUT',
    message: /labelsPerClass: expected an integer in 2\.\.100, got 1/,
    kind: 'FEATURE_CLASSIFIER',
  },
  {
    name: 'labelsPerClass above 100',
    query: classifier(['d_down1'], 101),
    code: 'BAD_USER_INPUT',
    message: /labelsPerClass: expected an integer in 2\.\.100, got 101/,
    kind: 'FEATURE_CLASSIFIER',
  },
  { name: 'no layers', query: classifier([], 10), code: 'BAD_USER_INPUT', message: /layers: expected 1\.\.8 layer names, got 0/, kind: 'FEATURE_CLASSIFIER' },
  {
    name: 'an unknown layer among several',
    query: classifier(['d_down1', 'nope'], 10),
    code: 'BAD_USER_INPUT',
    message: /layers\[1\]: expected a layer of the feature network .*got "nope"/,
    kind: 'FEATURE_CLASSIFIER',
  },
  {
    name: 'a layer twice',
    query: classifier(['d_down1', 'd_down1'], 10),
    code: 'BAD_USER_INPUT',
    message: /layers: expected distinct layers, got "d_down1" twice/,
    kind: 'FEATURE_CLASSIFIER',
  },
  {
    name: 'a folded generator batchnorm',
    query: filters('g_up1_bn', '0'),
    code: 'BAD_USER_INPUT',
    message: /layer: expected a layer of the generator of .*g_reshape \(Reshape \[7, 7, 128\]\).*; got "g_up1_bn"/,
    kind: 'CONCEPT_FILTERS',
  },
  {
    name: 'a concept filter count above the filters',
    query: filters('g_up1_relu', '0', ', count: 65'),
    code: 'BAD_USER_INPUT',
    message: /count: expected an integer in 1\.\.64, got 65/,
    kind: 'CONCEPT_FILTERS',
  },
  {
    name: 'checkSeed equal to seed',
    query: filters('g_reshape', '0', ', seed: 4, checkSeed: 4'),
    code: 'BAD_USER_INPUT',
    message: /checkSeed: expected a seed other than seed \(4\)/,
    kind: 'CONCEPT_FILTERS',
  },
  {
    name: 'concept outside the classes (filters)',
    query: filters('g_reshape', '10'),
    code: 'BAD_USER_INPUT',
    message: /concept: expected one of the classes of mnist/,
    kind: 'CONCEPT_FILTERS',
  },
  {
    name: 'samples removing filters of an unknown layer',
    query: `{ samples(modelId: "${dcgan}", count: 1, removeFilters: { layer: "g_project_bn", filters: [0] }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /removeFilters\.layer: expected a layer of the generator of .*; got "g_project_bn"/,
    kind: 'SAMPLE',
  },
  {
    name: 'samples removing a filter out of range',
    query: `{ samples(modelId: "${dcgan}", count: 1, removeFilters: { layer: "g_up1_relu", filters: [3, 64] }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /removeFilters\.filters\[1\]: expected an integer in 0\.\.63, got 64/,
    kind: 'SAMPLE',
  },
  {
    name: 'samples removing a filter twice',
    query: `{ samples(modelId: "${dcgan}", count: 1, removeFilters: { layer: "g_up1_relu", filters: [3, 3] }) { id } }`,
    code: 'BAD_USER_INPUT',
    message: /removeFilters\.filters: expected distinct filters, got 3 twice/,
    kind: 'SAMPLE',
  },
];

describe('bad input to the feature analyses', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.code} and a FAILED ${c.kind} run`, async () => {
      const before = await newestRun();
      const body = await server.gql(c.query);
      const error = body.errors?.[0];
      expect(error?.extensions?.code).toBe(c.code);
      expect(error?.message).toMatch(c.message);
      const after = await newestRun();
      expect(after.total).toBe(before.total + 1);
      expect(after.run).toMatchObject({ kind: c.kind, status: 'FAILED', errorCode: c.code });
      expect(after.run.errorMessage).toMatch(c.message);
    });
  }

  it('the model without a feature network still lists its generator layers and no feature layers', async () => {
    const body = await server.gql<{ model: { featureNetworkRole: string | null; featureLayers: unknown; generatorLayers: { name: string }[] } }>(
      `{ model(id: "${bare}") { featureNetworkRole featureLayers { name } generatorLayers { name } } }`,
    );
    expect(body.data!.model.featureNetworkRole).toBeNull();
    expect(body.data!.model.featureLayers).toBeNull();
    expect(body.data!.model.generatorLayers.map((l) => l.name)).toContain('g_up1_relu');
  });
});
