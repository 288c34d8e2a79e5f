import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { loadMnist } from '../../src/data/mnist';
import { encodePng } from '../../src/images/png';
import { readManifest } from '../../src/models/manifest';
import { kPlusOneProbabilities } from '../../src/training/k-plus-one';
import { DIGITS, loadFixtureClassifier, seededImages, toUnitRange, writeFixtureModel } from '../classify/kplusone-fixture';
import { MODELS_DIR, startTestServer, type TestServer } from '../helpers/server';

interface ClassificationOut {
  modelId: string;
  runId: string;
  index: number;
  label: string;
  labelIndex: number;
  confidence: number;
  generatedProbability: number;
  probabilities: { class: string; probability: number }[];
}

interface RunOut {
  id: string;
  kind: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  modelId: string | null;
  parameters: Record<string, unknown>;
  result: { images: number; labels: string[]; labelCounts: Record<string, number> } | null;
}

const CLASSIFY = `query($modelId: ID!, $images: [ImageInput!]!) {
  classify(modelId: $modelId, images: $images) { modelId runId index label labelIndex confidence generatedProbability probabilities { class probability } }
}`;
const MAX_IMAGES = 16;
const KPLUSONE = 'kplusone-test@1';

const pngBase64 = (pixels: Float32Array) => encodePng(pixels, 28, 28, 1, [0, 255]).toString('base64');

describe('classify over HTTP, on a K+1 test model', () => {
  const modelsDir = mkdtempSync(path.join(os.tmpdir(), 'ganql-classify-http-'));
  let server: TestServer;
  let classifier: tf.LayersModel;

  const classify = (modelId: string, images: unknown[]) => server.gql<{ classify: ClassificationOut[] }>(CLASSIFY, { modelId, images });

  async function newestClassifyRun(): Promise<{ total: number; run: RunOut }> {
    const body = await server.gql<{ runs: { totalCount: number; edges: { node: RunOut }[] } }>(
      '{ runs(first: 1, filter: { kind: CLASSIFY }) { totalCount edges { node { id kind status errorCode errorMessage modelId parameters result } } } }',
    );
    expect(body.errors).toBeUndefined();
    return { total: body.data!.runs.totalCount, run: body.data!.runs.edges[0].node };
  }

  /** The K+1 probabilities of the images computed directly with tfjs: the reference. */
  function direct(images: Float32Array[]): number[][] {
    const batch = new Float32Array(images.length * 784);
    images.forEach((x, i) => batch.set(toUnitRange(x), i * 784));
    return tf.tidy(() => kPlusOneProbabilities(classifier.predict(tf.tensor4d(batch, [images.length, 28, 28, 1])) as tf.Tensor2D).arraySync());
  }

  beforeAll(async () => {
    await writeFixtureModel(modelsDir, 'kplusone', { name: 'kplusone-test', version: '1', classes: DIGITS, seed: 5 });
    await writeFixtureModel(modelsDir, 'plain', { name: 'plain-gan', version: '1' });
    await writeFixtureModel(modelsDir, 'misfit', { name: 'misfit', version: '1', classes: DIGITS, wrongClassifierClasses: 3, seed: 6 });
    server = await startTestServer(
      { modelsDir },
      {
        GANQL_INFERENCE_WORKERS: '2',
        GANQL_MAX_SAMPLES: String(MAX_IMAGES),
        GANQL_MAX_IMAGES_PER_REQUEST: '20',
        GANQL_MAX_QUEUE_DELAY_MS: '20',
        GANQL_LOG_LEVEL: 'silent',
      },
    );
    classifier = await loadFixtureClassifier(modelsDir, 'kplusone');
  });

  afterAll(async () => {
    classifier?.dispose();
    await server?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('classifies PNGs and pixel arrays alike, as the classifier does directly, and records a SUCCEEDED run', async () => {
    const images = seededImages(6, 42);
    const viaPng = await classify(
      KPLUSONE,
      images.map((x) => ({ png: pngBase64(x) })),
    );
    const viaPixels = await classify(
      KPLUSONE,
      images.map((x) => ({ pixels: Array.from(x) })),
    );
    expect(viaPng.errors).toBeUndefined();
    expect(viaPixels.errors).toBeUndefined();
    const a = viaPng.data!.classify;
    const b = viaPixels.data!.classify;
    expect(a).toHaveLength(6);
    const expected = direct(images);
    a.forEach((c, i) => {
      const other = b[i];
      expect({ ...c, runId: '' }).toEqual({ ...other, runId: '' });
      expect(c.modelId).toBe(KPLUSONE);
      expect(c.index).toBe(i);
      expect(c.probabilities.map((p) => p.class)).toEqual(DIGITS);
      const all = [...c.probabilities.map((p) => p.probability), c.generatedProbability];
      all.forEach((p, k) => expect(Math.abs(p - expected[i][k])).toBeLessThanOrEqual(1e-5));
      expect(all.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
      // The label is the most probable class, its confidence p(label | x, y <= K).
      const top = Math.max(...expected[i].slice(0, 10));
      expect(c.labelIndex).toBe(expected[i].indexOf(top));
      expect(c.label).toBe(DIGITS[c.labelIndex]);
      expect(Math.abs(c.confidence - top / (1 - expected[i][10]))).toBeLessThanOrEqual(1e-5);
    });
    // The fixture is not degenerate: the images get more than one label and probabilities far from uniform.
    expect(new Set(a.map((c) => c.label)).size).toBeGreaterThan(1);
    expect(Math.max(...a.map((c) => c.confidence))).toBeGreaterThan(0.3);

    const { run } = await newestClassifyRun();
    expect(run).toMatchObject({ id: b[0].runId, kind: 'CLASSIFY', status: 'SUCCEEDED', modelId: KPLUSONE, errorCode: null });
    expect(run.parameters).toEqual({ modelId: KPLUSONE, images: 6, png: 0, pixels: 6 });
    expect(run.result!.labels).toEqual(b.map((c) => c.label));
    expect(run.result!.images).toBe(6);
    const counts: Record<string, number> = {};
    for (const c of b) counts[c.label] = (counts[c.label] ?? 0) + 1;
    expect(run.result!.labelCounts).toEqual(counts);
  });

  it('accepts a data URL, as samples return them, and an RGB PNG whose channels are equal', async () => {
    const [image] = seededImages(1, 7);
    const png = new PNG({ width: 28, height: 28 });
    for (let i = 0; i < 784; i++) png.data.set([image[i], image[i], image[i], 255], i * 4);
    const rgb = PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true }).toString('base64');
    const body = await classify(KPLUSONE, [{ png: `data:image/png;base64,${pngBase64(image)}` }, { png: rgb }, { pixels: Array.from(image) }]);
    expect(body.errors).toBeUndefined();
    const [fromDataUrl, fromRgb, fromPixels] = body.data!.classify;
    expect(fromDataUrl.probabilities).toEqual(fromPixels.probabilities);
    expect(fromRgb.probabilities).toEqual(fromPixels.probabilities);
  });

  it('batches concurrent requests in the shared pool, and the workers keep no tensors behind', async () => {
    const info = () =>
      server.gql<{ serverInfo: { pool: { batches: number; items: number; largestBatch: number; tensors: number; executor: string } } }>(
        '{ serverInfo { pool { batches items largestBatch tensors executor } } }',
      );
    const before = (await info()).data!.serverInfo.pool;
    expect(before.executor).toBe('2 worker threads (wasm)');
    const images = seededImages(12, 99);
    const bodies = await Promise.all(images.map((x) => classify(KPLUSONE, [{ pixels: Array.from(x) }])));
    const expected = direct(images);
    bodies.forEach((body, i) => {
      expect(body.errors).toBeUndefined();
      expect(Math.abs(body.data!.classify[0].generatedProbability - expected[i][10])).toBeLessThanOrEqual(1e-5);
    });
    const after = (await info()).data!.serverInfo.pool;
    expect(after.items - before.items).toBe(12);
    // 12 one-image requests within the 20 ms batching window: fewer forward passes than requests.
    expect(after.batches - before.batches).toBeLessThan(12);
    expect(after.largestBatch).toBeGreaterThan(1);
    expect(after.tensors).toBe(before.tensors);
  });

  describe('refuses bad input with BAD_USER_INPUT naming the image, recorded as a FAILED CLASSIFY run', () => {
    const good = () => ({ pixels: Array.from(seededImages(1, 3)[0]) });
    const transparent = (() => {
      const png = new PNG({ width: 28, height: 28 });
      for (let i = 0; i < 784; i++) png.data.set([50, 50, 50, i === 100 ? 0 : 255], i * 4);
      return PNG.sync.write(png, { colorType: 6, inputColorType: 6, inputHasAlpha: true }).toString('base64');
    })();
    const colour = (() => {
      const png = new PNG({ width: 28, height: 28 });
      for (let i = 0; i < 784; i++) png.data.set([200, 10, 10, 255], i * 4);
      return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true }).toString('base64');
    })();
    const outOfRange = Array.from(seededImages(1, 4)[0]);
    outOfRange[300] = 300;
    const cases: { name: string; modelId?: string; images: () => unknown[]; message: string | RegExp; code?: string }[] = [
      {
        name: 'neither png nor pixels',
        images: () => [good(), {}],
        message: 'images[1]: expected exactly one of png (base64 of a PNG) or pixels (28x28x1 = 784 values in 0..255), got neither',
      },
      {
        name: 'both png and pixels',
        images: () => [{ png: pngBase64(seededImages(1, 1)[0]), pixels: good().pixels }],
        message: 'images[0]: expected exactly one of png (base64 of a PNG) or pixels (28x28x1 = 784 values in 0..255), got both',
      },
      {
        name: 'broken base64',
        images: () => [good(), good(), { png: 'iVBORw0KGgo!AAA' }],
        message:
          'images[2].png: expected base64 of a PNG file (characters A-Z a-z 0-9 + /, padded with = to a multiple of 4), got the character "!" at position 11',
      },
      {
        name: 'not a PNG',
        images: () => [{ png: Buffer.from('GIF89a not a png').toString('base64') }],
        message: 'images[0].png: expected a PNG file, got 16 bytes that do not start with the PNG signature',
      },
      {
        name: 'a corrupt PNG',
        images: () => [{ png: encodePng(seededImages(1, 2)[0], 28, 28, 1, [0, 255]).subarray(0, 60).toString('base64') }],
        message: /^images\[0\]\.png: expected a valid PNG file, got a corrupt one \(.+\)$/,
      },
      {
        name: 'a wrong size',
        images: () => [good(), { png: encodePng(new Float32Array(32 * 32), 32, 32, 1, [0, 255]).toString('base64') }],
        message: 'images[1].png: expected a 28x28 image, got 32x32',
      },
      {
        name: 'colour for a grayscale model',
        images: () => [{ png: colour }],
        message:
          'images[0].png: expected a grayscale image (1 channel), got a colour PNG whose channels differ (r=200, g=10, b=10 at x=0, y=0); convert it to grayscale first',
      },
      {
        name: 'transparency',
        images: () => [{ png: transparent }],
        message: 'images[0].png: expected an opaque image, got a PNG with transparency (alpha 0 at x=16, y=3)',
      },
      {
        name: 'a wrong pixel count',
        images: () => [{ pixels: new Array(28 * 28 * 3).fill(0) }],
        message: 'images[0].pixels: expected 784 values (28x28x1 = 784, row-major), got 2352',
      },
      {
        name: 'a value out of 0..255',
        images: () => [good(), { pixels: outOfRange }],
        message: 'images[1].pixels[300]: expected a finite number in 0..255, got 300',
      },
      {
        name: 'too many images',
        images: () => Array.from({ length: MAX_IMAGES + 1 }, good),
        message: `images: expected 1..${MAX_IMAGES} images (GANQL_MAX_SAMPLES), got ${MAX_IMAGES + 1}`,
      },
      { name: 'no image', images: () => [], message: `images: expected 1..${MAX_IMAGES} images (GANQL_MAX_SAMPLES), got 0` },
      {
        name: 'an oversized base64 string',
        images: () => [{ png: 'A'.repeat(200_000) }],
        message: /^images\[0\]\.png: expected at most \d+ base64 characters \(a 28x28 PNG\), got 200000$/,
      },
      {
        name: 'a model without a classifier',
        modelId: 'plain-gan@1',
        images: () => [good()],
        message: `modelId: expected a model with a classifier (a semi-supervised K+1 model), got plain-gan@1, which has none; models that classify here: ${KPLUSONE}`,
      },
      {
        name: 'a model whose classifier did not load',
        modelId: 'misfit@1',
        images: () => [good()],
        message: `modelId: the classifier of misfit@1 could not be loaded on this server (see the server log); models that classify here: ${KPLUSONE}`,
      },
      { name: 'an unknown model', modelId: 'nope@1', images: () => [good()], message: 'model "nope@1" not found', code: 'NOT_FOUND' },
    ];

    for (const c of cases) {
      it(c.name, async () => {
        const { total } = await newestClassifyRun();
        const body = await classify(c.modelId ?? KPLUSONE, c.images());
        expect(body.data).toBeNull();
        expect(body.errors).toHaveLength(1);
        const [error] = body.errors!;
        expect(error.extensions?.code).toBe(c.code ?? 'BAD_USER_INPUT');
        if (typeof c.message === 'string') expect(error.message).toBe(c.message);
        else expect(error.message).toMatch(c.message);
        const after = await newestClassifyRun();
        expect(after.total).toBe(total + 1);
        expect(after.run).toMatchObject({
          kind: 'CLASSIFY',
          status: 'FAILED',
          errorCode: c.code ?? 'BAD_USER_INPUT',
          errorMessage: error.message,
          result: null,
        });
      });
    }
  });

  it('counts classify images against the per-request image cap, with samples', async () => {
    const images = Array.from({ length: 12 }, () => ({ pixels: Array.from(seededImages(1, 8)[0]) }));
    const body = await server.gql(
      `query($images: [ImageInput!]!) { classify(modelId: "${KPLUSONE}", images: $images) { label } samples(count: 9, modelId: "${KPLUSONE}") { id } }`,
      { images },
    );
    expect(body.errors?.[0]).toMatchObject({
      message: 'images per request: expected at most 20 images generated (GANQL_MAX_IMAGES_PER_REQUEST), got 21',
      extensions: { code: 'QUERY_TOO_COMPLEX' },
    });
    expect(body.data).toBeUndefined();
  });
});

const REAL = path.join(MODELS_DIR, 'mnist-kplusone');

describe.skipIf(!existsSync(path.join(REAL, 'manifest.json')))('classify with the shipped K+1 model (models/mnist-kplusone)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, { GANQL_LOG_LEVEL: 'silent' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('labels held-out MNIST test digits as its manifest testError says', async () => {
    const manifest = readManifest(REAL);
    const id = `${manifest.name}@${manifest.version}`;
    const testError = manifest.training.metrics?.testError;
    expect(testError, 'the manifest records the held-out test error').toBeTypeOf('number');
    const { images, labels, count } = loadMnist({ split: 'test' });
    let right = 0;
    // The test split in chunks of the request limit, each digit as a PNG as a client would send it.
    for (let start = 0; start < count; start += 200) {
      const n = Math.min(200, count - start);
      const batch = Array.from({ length: n }, (_, i) => ({
        png: encodePng(images.subarray((start + i) * 784, (start + i + 1) * 784), 28, 28, 1, [-1, 1]).toString('base64'),
      }));
      const body = await server.gql<{ classify: { label: string }[] }>(CLASSIFY, { modelId: id, images: batch });
      expect(body.errors).toBeUndefined();
      body.data!.classify.forEach((c, i) => (right += c.label === String(labels[start + i]) ? 1 : 0));
    }
    const accuracy = right / count;
    console.log(`${id}: ${right}/${count} held-out digits right over HTTP (accuracy ${accuracy.toFixed(4)}; manifest testError ${testError})`);
    // PNG quantisation moves pixels by at most half a grey level: the accuracy stays within a point of the manifest's.
    expect(accuracy).toBeGreaterThan(1 - testError! - 0.01);
    if (testError! < 0.1) expect(accuracy).toBeGreaterThan(0.9);
  });
});

if (!existsSync(path.join(REAL, 'manifest.json'))) {
  console.warn(`classify.http.test: ${REAL} is absent, so the test on the shipped K+1 model is skipped`);
}
