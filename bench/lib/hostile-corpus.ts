/**
 * A seeded corpus of hostile HTTP requests to ganql's /graphql: malformed documents, wrong variable
 * types, huge and non-finite numbers, broken images, bad ids and enums, bad training inputs, batch
 * requests, wrong content types and bodies. Used by test/server/fuzz.http.test.ts, written out by
 * scripts/fuzz-corpus.ts and replayed by bench/replay-corpus.ts (see ./replay.ts for the format).
 */
import { deflateSync } from 'node:zlib';
import { createPrng, type Prng } from '../../src/data/prng';
import { encodePng } from '../../src/images/png';

/** One request. `auth`: "admin" sends the replayer's admin key, "bad" a malformed key, "none" no key. */
export interface FuzzCase {
  id: number;
  /** What kind of hostility, e.g. "classify.png.broken-base64". */
  name: string;
  method: 'GET' | 'POST';
  /** Path and query string, e.g. "/graphql" or "/graphql?query=...". */
  path: string;
  headers?: Record<string, string>;
  /** The body as text ... */
  body?: string;
  /** ... or as bytes (base64), for invalid UTF-8. */
  bodyBase64?: string;
  auth: 'admin' | 'none' | 'bad';
}

/** Ids the corpus aims at: real ones reach deeper code than made-up ones. */
export interface CorpusTargets {
  /** A served generator, e.g. "dcgan-mnist@2026-11-27T04-42". */
  modelId: string;
  /** A served K+1 model (classify); the generator's id when none. */
  classifierModelId: string;
  /** Latent size of modelId. */
  latentSize: number;
  /** Stored sample ids, if any. */
  sampleIds: string[];
}

export const DEFAULT_TARGETS: CorpusTargets = {
  modelId: 'dcgan-mnist@2026-11-27T04-42',
  classifierModelId: 'dcgan-mnist@2026-11-27T04-42',
  latentSize: 100,
  sampleIds: [],
};

type Gen = (p: Prng, t: CorpusTargets) => Omit<FuzzCase, 'id' | 'auth'>;

const pick = <T>(p: Prng, items: readonly T[]): T => items[p.nextInt(items.length)];
const gqlBody = (query: string, variables?: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ query, variables, ...extra });
const post = (name: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Omit<FuzzCase, 'id' | 'auth'> => ({
  name,
  method: 'POST',
  path: '/graphql',
  headers,
  body,
});

/** Values of the wrong kind, size or finiteness for any argument. */
const HOSTILE_VALUES: readonly unknown[] = [
  null,
  'NaN',
  'Infinity',
  '-Infinity',
  2 ** 53,
  2 ** 53 + 2,
  2 ** 31,
  -(2 ** 31) - 1,
  1e308,
  -1e308,
  5e-324,
  -0,
  -1,
  0,
  1.5,
  '12',
  '',
  true,
  {},
  [],
  [[[]]],
  { $ne: 1 },
  '\u0000',
  '\ud800',
  'x'.repeat(300),
  '../../../../etc/passwd',
  '\'; DROP TABLE "Run"; --',
];

function hostile(p: Prng): unknown {
  // A 1 MB string now and then (the body limit is 5 MB).
  if (p.nextInt(60) === 0) return 'A'.repeat(1 << 20);
  return pick(p, HOSTILE_VALUES);
}

/** Ids that do not exist or are not ids. */
function badId(p: Prng, t: CorpusTargets): unknown {
  return pick(p, [
    'nope',
    '',
    ' ',
    `${t.modelId}x`,
    t.modelId.replace('@', '#'),
    'dcgan-mnist@',
    '@',
    '0'.repeat(1000),
    '%00',
    'run_00000000000000000000000000',
    'smp_' + 'f'.repeat(24),
    't'.repeat(70_000),
    12,
    -1,
    1e308,
    null,
    ['a'],
    { id: 'a' },
    ...(t.sampleIds.length > 0 ? [t.sampleIds[0] + 'x', t.sampleIds[0].slice(0, -1)] : []),
  ]);
}

const latent = (p: Prng, n: number) => Array.from({ length: n }, () => p.nextNormal());

function badLatent(p: Prng, t: CorpusTargets): unknown {
  const ok = latent(p, t.latentSize);
  switch (p.nextInt(8)) {
    case 0:
      return latent(p, t.latentSize - 1);
    case 1:
      return latent(p, t.latentSize + 1);
    case 2:
      return ok.map((v, i) => (i === p.nextInt(t.latentSize) ? 'NaN' : v));
    case 3:
      return ok.map((v, i) => (i === 3 ? 1e308 : v));
    case 4:
      return [];
    case 5:
      return latent(p, 200_000);
    case 6:
      return ok.map(() => hostile(p));
    default:
      return hostile(p);
  }
}

function latentRef(p: Prng, t: CorpusTargets): unknown {
  switch (p.nextInt(6)) {
    case 0:
      return { latent: badLatent(p, t) };
    case 1:
      return { sampleId: badId(p, t) };
    case 2:
      return { latent: latent(p, t.latentSize), sampleId: t.sampleIds[0] ?? 'x' };
    case 3:
      return {};
    case 4:
      return t.sampleIds.length > 0 ? { sampleId: pick(p, t.sampleIds) } : { latent: latent(p, t.latentSize) };
    default:
      return hostile(p);
  }
}

/** `base` with 1..3 of its (or new) fields replaced by hostile values. */
function mutate(p: Prng, base: Record<string, unknown>, extraFields: Record<string, () => unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  const keys = [...Object.keys(base), ...Object.keys(extraFields)];
  const n = 1 + p.nextInt(3);
  for (let i = 0; i < n; i++) {
    const key = pick(p, keys);
    out[key] = key in extraFields && p.nextInt(2) === 0 ? extraFields[key]() : hostile(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- images

/** A PNG of the given size and colour type, from seeded noise. */
function png(p: Prng, width: number, height: number, channels: 1 | 3 | 4 = 1): Buffer {
  const pixels = new Float32Array(width * height * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = p.nextInt(256);
  if (channels === 4) {
    // encodePng takes 1 or 3 channels; an RGBA one is written by hand below.
    return rawPng(width, height, 6, Buffer.from(Uint8Array.from(pixels)), 4);
  }
  return encodePng(pixels, width, height, channels, [0, 255]);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG whose IHDR claims width x height (colour type, 8 bits) over the given raw scanline bytes. */
function rawPng(width: number, height: number, colorType: number, pixels: Buffer, bytesPerPixel: number, idat?: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const rows: Buffer[] = [];
  for (let y = 0; y < height && idat === undefined; y++)
    rows.push(Buffer.concat([Buffer.from([0]), pixels.subarray(y * width * bytesPerPixel, (y + 1) * width * bytesPerPixel)]));
  const data = idat ?? deflateSync(Buffer.concat(rows));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', data),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

let bomb: string | undefined;
/** Base64 of a 95 KB PNG claiming 30000x30000 pixels (made once: deflating 70 MB takes a moment). */
export function pngBomb(): string {
  bomb ??= rawPng(30_000, 30_000, 0, Buffer.alloc(0), 1, deflateSync(Buffer.alloc(70 << 20), { level: 9 })).toString('base64');
  return bomb;
}

function hostileImage(p: Prng): unknown {
  const b64 = (b: Buffer) => b.toString('base64');
  switch (p.nextInt(22)) {
    case 0:
      return { png: '!!!not base64!!!' };
    case 1:
      return { png: 'iVBORw0KGgo' }; // truncated, unpadded
    case 2:
      return { png: b64(png(p, 28, 28)).slice(0, 100) };
    case 3:
      return { png: b64(Buffer.from('GIF89a this is not a png at all')) };
    case 4:
      return { png: b64(png(p, 27, 28)) };
    case 5:
      return { png: b64(png(p, 1, 1)) };
    case 6:
      return { png: b64(png(p, 600, 600)) }; // oversized: longer than any 28x28 PNG
    case 7:
      return { png: b64(png(p, 28, 28, 3)) }; // colour
    case 8:
      return { png: b64(png(p, 28, 28, 4)) }; // transparency
    case 9:
      // A decompression bomb: under the base64 length limit, its IHDR claims 30000x30000 over 70 MB of
      // deflated zeros (decoding it took 27 s and 4 GB before the claimed size was checked first).
      return { png: pngBomb() };
    case 10:
      // IHDR with absurd dimensions and no data.
      return { png: b64(rawPng(0x7fffffff, 0x7fffffff, 0, Buffer.alloc(0), 1, Buffer.alloc(0))) };
    case 11: {
      // Corrupt CRC.
      const b = png(p, 28, 28);
      b[b.length - 20] ^= 0xff;
      return { png: b64(b) };
    }
    case 12:
      return { png: `data:image/png;base64,${b64(png(p, 28, 28))}`.replace('base64', 'base32') };
    case 13:
      return { png: b64(png(p, 28, 28)), pixels: Array.from({ length: 784 }, () => 0) };
    case 14:
      return {};
    case 15:
      return { pixels: Array.from({ length: 784 }, (_, i) => (i === 400 ? pick(p, [-1, 256, 1e308, -0.0001, 255.5]) : p.nextInt(256))) };
    case 16:
      return { pixels: Array.from({ length: 784 }, (_, i) => (i === 5 ? pick(p, ['NaN', 'Infinity', null, '1', true]) : 0)) };
    case 17:
      return { pixels: Array.from({ length: pick(p, [0, 1, 783, 785, 784 * 3, 200_000]) }, () => 0) };
    case 18:
      return { pixels: [[0, 1], [2]] };
    case 19:
      return { png: hostile(p) };
    case 20:
      return { pixels: hostile(p) };
    default:
      return hostile(p);
  }
}

// ---------------------------------------------------------------------------------------------- operations

const SAMPLE_FIELDS = 'id index modelId latent image { width height dataUrl }';

/** One generator per operation: a mostly-valid document with hostile variables. */
const OPERATIONS: Record<string, Gen> = {
  samples: (p, t) =>
    post(
      'op.samples',
      gqlBody(
        'query($c: Int, $s: Int, $m: ID, $l: [[Float!]!]) { samples(count: $c, seed: $s, modelId: $m, latents: $l) { id index } }',
        mutate(p, { c: 1 + p.nextInt(3), s: p.nextInt(1000) }, { m: () => badId(p, t), l: () => [badLatent(p, t)] }),
      ),
    ),
  sample: (p, t) =>
    post(
      'op.sample',
      gqlBody(`query($id: ID!) { sample(id: $id) { ${SAMPLE_FIELDS} } }`, {
        id: p.nextInt(3) === 0 && t.sampleIds.length ? pick(p, t.sampleIds) : badId(p, t),
      }),
    ),
  models: () => post('op.models', gqlBody('{ models { id latentSize imageShape { height width channels } runs(first: 1) { totalCount } } }')),
  model: (p, t) =>
    post(
      'op.model',
      gqlBody(
        'query($id: ID!, $f: Int!) { model(id: $id) { id runs(first: $f) { totalCount } } }',
        mutate(p, { id: t.modelId, f: 1 }, { id: () => badId(p, t) }),
      ),
    ),
  interpolate: (p, t) =>
    post(
      'op.interpolate',
      gqlBody(
        'query($from: LatentRefInput!, $to: LatentRefInput!, $steps: Int!, $method: InterpolationMethod!, $m: ID) { interpolate(from: $from, to: $to, steps: $steps, method: $method, modelId: $m) { runId samples { id } grid { width } } }',
        mutate(
          p,
          { from: { latent: latent(p, t.latentSize) }, to: { latent: latent(p, t.latentSize) }, steps: 2 + p.nextInt(3), method: 'SLERP' },
          {
            from: () => latentRef(p, t),
            to: () => latentRef(p, t),
            method: () => pick(p, ['slerp', 'CUBIC', 'LINEAR ', 0]),
            steps: () => pick(p, [0, 1, 65, 1e9, -5]),
            m: () => badId(p, t),
          },
        ),
      ),
    ),
  latentArithmetic: (p, t) =>
    post(
      'op.latentArithmetic',
      gqlBody(
        'query($terms: [ConceptTermInput!]!, $n: Int!, $noise: Float!, $seed: Int, $m: ID) { latentArithmetic(terms: $terms, neighbours: $n, noise: $noise, seed: $seed, modelId: $m) { runId seed result { id } neighbours { id } } }',
        mutate(
          p,
          { terms: [{ coefficient: 1, exemplars: [{ latent: latent(p, t.latentSize) }] }], n: p.nextInt(3), noise: 0.25 },
          {
            terms: () =>
              pick(p, [
                [],
                Array.from({ length: 17 }, () => ({ coefficient: 1, exemplars: [{ latent: latent(p, t.latentSize) }] })),
                [{ coefficient: pick(p, [1e308, 'NaN', -101, null]), exemplars: [{ latent: latent(p, t.latentSize) }] }],
                [{ coefficient: 1, exemplars: [] }],
                [{ coefficient: 1, exemplars: Array.from({ length: 33 }, () => ({ latent: latent(p, t.latentSize) })) }],
                [{ coefficient: 1, exemplars: [latentRef(p, t)] }],
              ]),
            noise: () => pick(p, [-1, 2.0001, 1e308, 'Infinity']),
            n: () => pick(p, [-1, 25, 2 ** 31]),
            seed: () => pick(p, [-1, 2 ** 31, 2 ** 53, 1.5]),
          },
        ),
      ),
    ),
  nearestNeighbours: (p, t) =>
    post(
      'op.nearestNeighbours',
      gqlBody('query($ids: [ID!]!) { nearestNeighbours(sampleIds: $ids) { distance label trainingIndex sample { id } } }', {
        ids: pick(p, [[], [badId(p, t)], Array.from({ length: 65 }, () => t.sampleIds[0] ?? 'x'), [...t.sampleIds.slice(0, 1), badId(p, t)], hostile(p)]),
      }),
    ),
  evaluate: (p, t) =>
    post(
      'op.evaluate',
      gqlBody(
        'mutation($metrics: [EvaluationMetric!]!, $n: Int!, $splits: Int!, $seed: Int!, $scorer: String, $m: ID) { evaluate(metrics: $metrics, samples: $n, splits: $splits, seed: $seed, scorer: $scorer, modelId: $m) { id status } }',
        // Always at least one bad field besides the base: a valid evaluation is a long background job.
        mutate(
          p,
          { metrics: ['INCEPTION_SCORE'], n: pick(p, [99, 50_001, 0, -1]), splits: 10, seed: 0 },
          {
            metrics: () => pick(p, [[], ['FID', 'NOPE'], 'FID', [null]]),
            scorer: () => pick(p, ['nope', '', '../scorers', 'x'.repeat(5000)]),
            m: () => badId(p, t),
            splits: () => pick(p, [0, 51, -1]),
          },
        ),
      ),
    ),
  evaluation: (p, t) => post('op.evaluation', gqlBody('query($id: ID!) { evaluation(runId: $id) { fid seed run { id } } }', { id: badId(p, t) })),
  evaluations: (p, t) =>
    post(
      'op.evaluations',
      gqlBody(
        'query($f: Int!, $m: ID) { evaluations(first: $f, modelId: $m) { runId } }',
        mutate(p, { f: 5 }, { f: () => pick(p, [0, 101, -1, 2 ** 31]), m: () => badId(p, t) }),
      ),
    ),
  scorers: () => post('op.scorers', gqlBody('{ scorers { name classes dataset inputShape { height } } }')),
  runs: (p, t) =>
    post(
      'op.runs',
      gqlBody(
        'query($f: Int!, $a: String, $filter: RunFilterInput) { runs(first: $f, after: $a, filter: $filter) { totalCount edges { cursor node { id kind status parameters result } } } }',
        mutate(
          p,
          { f: 5 },
          {
            a: () => pick(p, ['nope', 'eyJ4IjoxfQ==', Buffer.from('{"createdAt":"NaN","id":1}').toString('base64'), '=', 'x'.repeat(10_000), '\u0000']),
            filter: () => pick(p, [{ kind: 'NOPE' }, { status: 'running' }, { modelId: badId(p, t) }, { kind: null, status: null }, { extra: 1 }]),
            f: () => pick(p, [0, 101, -1]),
          },
        ),
      ),
    ),
  run: (p, t) => post('op.run', gqlBody('query($id: ID!) { run(id: $id) { id status parameters sampleIds } }', { id: badId(p, t) })),
  serverInfo: () => post('op.serverInfo', gqlBody('{ serverInfo { version backend database pool { tensors queued } } }')),
  classify: (p, t) =>
    post(
      'op.classify',
      gqlBody(
        'query($m: ID!, $images: [ImageInput!]!) { classify(modelId: $m, images: $images) { index label confidence probabilities { class probability } } }',
        {
          m: p.nextInt(6) === 0 ? pick(p, [t.modelId, badId(p, t)]) : t.classifierModelId,
          images: pick(p, [[hostileImage(p)], [hostileImage(p), hostileImage(p)], [], Array.from({ length: 300 }, () => ({ pixels: [0] })), hostileImage(p)]),
        },
      ),
    ),
  startTraining: (p, t) =>
    post(
      'op.startTraining',
      gqlBody('mutation($input: StartTrainingInput!) { startTraining(input: $input) { id state } }', {
        // A small valid job with 1..3 fields made hostile (a valid one may slip through: the test cancels it).
        input: mutate(
          p,
          { epochs: 1, architecture: 'MLP', limit: 32, batchSize: 32 },
          {
            epochs: () => pick(p, [0, 1001, -1, 2 ** 31]),
            batchSize: () => pick(p, [0, 1025]),
            learningRate: () => pick(p, [0, -0.1, 1.5, 1e308]),
            beta1: () => pick(p, [1, -0.5, 2]),
            latentSize: () => pick(p, [0, 1025]),
            k: () => pick(p, [0, 101]),
            dataset: () => pick(p, ['cifar', '', '../../etc', 'FASHION']),
            name: () => pick(p, ['bad name!', '', 'x'.repeat(65), '../escape', 'a/b', '.', '..']),
            fineTuneFrom: () => badId(p, t),
            mode: () => pick(p, ['KPLUSONE', 'gan', 'WGAN']),
            labelsPerClass: () => pick(p, [0, 1001]),
            keepEvery: () => pick(p, [0, 2, -1]),
            seed: () => pick(p, [-1, 2 ** 53]),
            architecture: () => pick(p, ['RNN', 'dcgan', null]),
            techniques: () =>
              pick(p, [
                { featureMatching: { layer: 'no_such_layer' } },
                { minibatchDiscrimination: { kernels: 0, kernelDim: 257 } },
                { labelSmoothing: 0 },
                { labelSmoothing: 1.5 },
                { historicalAveraging: { weight: -1 } },
                { virtualBatchNorm: { referenceSize: 0 } },
                { virtualBatchNorm: { referenceSize: 1025 } },
              ]),
          },
        ),
      }),
    ),
  cancelTraining: (p, t) => post('op.cancelTraining', gqlBody('mutation($id: ID!) { cancelTraining(id: $id) { id state } }', { id: badId(p, t) })),
  trainingJob: (p, t) => post('op.trainingJob', gqlBody('query($id: ID!) { trainingJob(id: $id) { id state epochs { epoch } } }', { id: badId(p, t) })),
  trainingJobs: (p) =>
    post(
      'op.trainingJobs',
      gqlBody(
        'query($f: Int!, $s: TrainingJobState, $a: String) { trainingJobs(first: $f, status: $s, after: $a) { totalCount edges { node { id } } } }',
        mutate(
          p,
          { f: 3 },
          {
            s: () => pick(p, ['running', 'DONE', 1]),
            a: () => pick(p, ['nope', '', Buffer.from('{}').toString('base64')]),
          },
        ),
      ),
    ),
  neuronProbe: (p, t) =>
    post(
      'op.neuronProbe',
      gqlBody(
        'query($m: ID!, $l: String!, $c: String!, $n: Int, $top: Int, $s: Int) { neuronProbe(modelId: $m, layer: $l, concept: $c, neurons: $n, topImages: $top, seed: $s) { positives neurons { neuron accuracy } } }',
        mutate(
          p,
          { m: t.modelId, l: 'd_down1_lrelu', c: '0', n: 1, top: 1 },
          {
            m: () => badId(p, t),
            l: () => pick(p, ['', 'nope', 'd_flatten', 'g_up1', 'z'.repeat(5000)]),
            c: () => pick(p, ['10', 'cat', '', '-1', '0 ']),
            n: () => pick(p, [0, 65, -1, 2 ** 31]),
            top: () => pick(p, [0, 33, -1]),
            s: () => pick(p, [-1, 2 ** 31, 1.5]),
          },
        ),
      ),
    ),
  optimalStimulus: (p, t) =>
    post(
      'op.optimalStimulus',
      gqlBody(
        'query($m: ID!, $l: String!, $n: Int!, $steps: Int, $step: Float, $norm: Float, $s: Int) { optimalStimulus(modelId: $m, layer: $l, neuron: $n, steps: $steps, stepSize: $step, maxNorm: $norm, seed: $s) { activation exceedsEveryTestImage } }',
        mutate(
          p,
          { m: t.modelId, l: 'd_down2_lrelu', n: 0, steps: 2 },
          {
            m: () => badId(p, t),
            l: () => pick(p, ['nope', 'image', 'd_flatten']),
            n: () => pick(p, [-1, 64, 2 ** 31, 1.5]),
            steps: () => pick(p, [0, 2001, -1]),
            step: () => pick(p, [0, -1, 1e308, 'NaN']),
            norm: () => pick(p, [0, -1, 1e308, 'Infinity']),
          },
        ),
      ),
    ),
  featureClassifier: (p, t) =>
    post(
      'op.featureClassifier',
      gqlBody(
        'query($m: ID!, $layers: [String!]!, $k: Int!, $s: Int) { featureClassifier(modelId: $m, layers: $layers, labelsPerClass: $k, seed: $s) { features { accuracy } rawPixels { accuracy } } }',
        mutate(
          p,
          { m: t.modelId, layers: ['d_down2_lrelu'], k: 2 },
          {
            m: () => badId(p, t),
            layers: () => pick(p, [[], ['nope'], Array.from({ length: 9 }, () => 'd_down1'), ['d_down1', 'd_down1'], 'd_down1', [null]]),
            k: () => pick(p, [0, 1, 101, -1, 2 ** 31]),
          },
        ),
      ),
    ),
  conceptFilters: (p, t) =>
    post(
      'op.conceptFilters',
      gqlBody(
        'query($m: ID!, $l: String!, $c: String!, $count: Int, $n: Int, $check: Int, $scorer: String) { conceptFilters(modelId: $m, layer: $l, concept: $c, count: $count, samples: $n, checkSamples: $check, scorer: $scorer) { positiveFilters } }',
        // Always at least one bad field besides the base: a valid search generates hundreds of samples.
        mutate(
          p,
          { m: t.modelId, l: 'g_up1_relu', c: '8', count: 2, n: pick(p, [49, 2001, 0]), check: 10 },
          {
            m: () => badId(p, t),
            l: () => pick(p, ['nope', 'd_down1', 'g_up2', '']),
            c: () => pick(p, ['x', '', '11']),
            count: () => pick(p, [0, 33, -1]),
            check: () => pick(p, [9, 1001]),
            scorer: () => pick(p, ['nope', '', '../scorers']),
          },
        ),
      ),
    ),
  samplesRemovingFilters: (p, t) =>
    post(
      'op.samplesRemovingFilters',
      gqlBody(
        'query($m: ID, $r: FilterRemovalInput, $c: Int) { samples(modelId: $m, count: $c, seed: 1, removeFilters: $r) { id } }',
        mutate(
          p,
          { m: t.modelId, r: { layer: 'g_up1_relu', filters: [0, 1] }, c: 1 },
          {
            r: () =>
              pick(p, [
                { layer: 'nope', filters: [0] },
                { layer: 'g_up1_relu', filters: [] },
                { layer: 'g_up1_relu', filters: [32] },
                { layer: 'g_up1_relu', filters: [-1, 0] },
                { layer: 'g_up1_relu', filters: [1, 1] },
                { layer: 'g_up1_relu', filters: Array.from({ length: 33 }, (_, i) => i) },
                { layer: 'g_up2', filters: [0] },
                { filters: [0] },
              ]),
          },
        ),
      ),
    ),
  trainingProgress: (p, t) =>
    post('op.trainingProgress', gqlBody('subscription($id: ID!) { trainingProgress(jobId: $id) { type state } }', { id: badId(p, t) })),
};

/** Literal values spliced into documents: the parser and coercion, not JSON, see them. */
const LITERALS = [
  '1e309',
  '-1e309',
  '99999999999999999999',
  '9007199254740993',
  '-0',
  '0x10',
  'NaN',
  'Infinity',
  '"NaN"',
  '1.',
  '.5',
  '01',
  '"\\u12"',
  '"\\uD800"',
  '"\\x41"',
  'null',
  '[]',
  '{}',
  '$undeclared',
  'true',
  '"\u0000"',
];

/** Documents that are malformed or abuse the query language. */
const DOCUMENTS: Gen[] = [
  (p, t) => {
    const full = `{ samples(count: 2, seed: 1) { ${SAMPLE_FIELDS} } models { id } model(id: "${t.modelId}") { id } }`;
    return post('doc.truncated', gqlBody(full.slice(0, 1 + p.nextInt(full.length - 1))));
  },
  (p) =>
    post(
      'doc.unbalanced',
      gqlBody(
        pick(p, [
          '{ samples(count: 1) { id }',
          '{ samples(count: 1) { id } } }',
          '{{{{',
          '}}}}',
          '{ samples(count: 1 { id } }',
          '(((',
          '{ samples(count: [1) { id } }',
        ]),
      ),
    ),
  (p) =>
    post(
      'doc.unknown-field',
      gqlBody(
        pick(p, [
          '{ nope }',
          '{ samples(count: 1) { nope } }',
          '{ samples(nope: 1) { id } }',
          '{ __typename }',
          'mutation { samples { id } }',
          '{ samples(count: 1) }',
          '{ models { runs { edges } } }',
        ]),
      ),
    ),
  (p) => post('doc.literal', gqlBody(`{ samples(count: ${pick(p, LITERALS)}, seed: ${pick(p, LITERALS)}) { id } }`)),
  (p, t) =>
    post(
      'doc.literal-float',
      gqlBody(
        `{ latentArithmetic(terms: [{ coefficient: ${pick(p, LITERALS)}, exemplars: [{ latent: [${Array.from({ length: t.latentSize }, () => pick(p, ['0', ...LITERALS])).join(',')}] }] }], noise: ${pick(p, LITERALS)}) { runId } }`,
      ),
    ),
  (p) => {
    const depth = pick(p, [13, 50, 1000, 20_000]);
    return post(
      'doc.deep-nesting',
      gqlBody(`{ models { ${'runs { edges { node { '.repeat(Math.ceil(depth / 3))}id${' } } }'.repeat(Math.ceil(depth / 3))} } }`),
    );
  },
  (p) => {
    const depth = pick(p, [5000, 100_000]);
    return post('doc.deep-braces', gqlBody(`${'{ a '.repeat(depth)}${'}'.repeat(depth)}`));
  },
  (p) => {
    const n = pick(p, [33, 1000, 20_000]);
    return post('doc.aliases', gqlBody(`{ ${Array.from({ length: n }, (_, i) => `a${i}: serverInfo { version }`).join(' ')} }`));
  },
  (p) => {
    const n = pick(p, [17, 500]);
    return post('doc.root-fields', gqlBody(`{ ${Array.from({ length: n }, (_, i) => `s${i}: samples(count: 16) { id }`).join(' ')} }`));
  },
  (p) =>
    post(
      'doc.cost',
      gqlBody(`{ ${Array.from({ length: pick(p, [2, 8]) }, (_, i) => `s${i}: samples(count: 256) { id latent run { id sampleIds } }`).join(' ')} }`),
    ),
  () => post('doc.fragment-cycle', gqlBody('query { models { ...A } } fragment A on Model { id ...B } fragment B on Model { ...A }')),
  () =>
    post(
      'doc.fragment-bomb',
      gqlBody(
        `query { serverInfo { ...F0 } } ${Array.from({ length: 30 }, (_, i) => `fragment F${i} on ServerInfo { version ${i < 29 ? `...F${i + 1} ...F${i + 1}` : ''} }`).join(' ')}`,
      ),
    ),
  () => post('doc.directives', gqlBody('{ serverInfo @skip(if: "yes") @nope @include(if: true) @include(if: false) { version } }')),
  () => post('doc.introspection-deep', gqlBody(`{ __schema { types { ${'fields { type { ofType { '.repeat(8)} name ${' } } }'.repeat(8)} } } }`)),
  (p) =>
    post(
      'doc.operations',
      gqlBody('query A { models { id } } query B { scorers { name } }', undefined, { operationName: pick(p, [undefined, 'C', 7, null, '']) }),
    ),
  (p) => post('doc.variables-undeclared', gqlBody('query($c: Int) { samples(count: $d) { id } }', { c: 1, d: hostile(p) })),
  (p) => post('doc.variable-type-mismatch', gqlBody('query($c: String) { samples(count: $c) { id } }', { c: hostile(p) })),
  () => post('doc.comments-only', gqlBody('# nothing here\n')),
  () => post('doc.empty', gqlBody('')),
  (p) => post('doc.huge-string', gqlBody(`{ model(id: "${'x'.repeat(pick(p, [1 << 16, 1 << 20]))}") { id } }`)),
  (p) => post('doc.bad-escapes', gqlBody(`{ model(id: "${pick(p, ['\\u12', '\\uD800', '\\q', '\\u{1F600}', '\\uZZZZ', '\n', '\u2028'])}") { id } }`)),
  (p) =>
    post('doc.huge-list', gqlBody(`{ nearestNeighbours(sampleIds: [${Array.from({ length: pick(p, [65, 50_000]) }, () => '"x"').join(',')}]) { distance } }`)),
  () => post('doc.null-non-null', gqlBody('{ model(id: null) { id } samples(count: null) { id } }')),
  (p) => post('doc.enum', gqlBody(`{ runs(first: 1, filter: { kind: ${pick(p, ['NOPE', '"SAMPLE"', 'sample', '1', 'null'])} }) { totalCount } }`)),
];

/** Requests that are wrong at the HTTP level. */
const HTTP: Gen[] = [
  (p) => post('http.batch', JSON.stringify(Array.from({ length: pick(p, [0, 1, 2, 100]) }, () => ({ query: '{ serverInfo { version } }' })))),
  (p) =>
    post('http.content-type', gqlBody('{ serverInfo { version } }'), {
      'content-type': pick(p, [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/graphql',
        'application/json; charset=utf-16',
        'image/png',
        '',
      ]),
    }),
  (p) =>
    post(
      'http.not-json',
      pick(p, [
        'not json',
        '{"query": "{ serverInfo { version } }"',
        '{"query": ',
        'null',
        '"a string"',
        '42',
        '[[]]',
        'true',
        '{}',
        '{"query": null}',
        '{"query": 42}',
        '{"query": ["a"]}',
        '{"query": "{ models { id } }", "variables": "x"}',
        '{"query": "{ models { id } }", "variables": [1]}',
        '{"query": "{ models { id } }", "extensions": 5}',
        '{"query": "{ models { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
        '{"__proto__": {"query": "{ models { id } }"}}',
      ]),
    ),
  () => post('http.empty-body', ''),
  () => {
    // Invalid UTF-8 inside the JSON string.
    const head = Buffer.from('{"query": "{ model(id: \\"');
    const tail = Buffer.from('\\") { id } }"}');
    return {
      name: 'http.invalid-utf8',
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      bodyBase64: Buffer.concat([head, Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), tail]).toString('base64'),
    };
  },
  () => ({
    name: 'http.gzip-garbage',
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: 'definitely not gzip',
  }),
  (p) =>
    // Over the 5 MB body limit now and then (each one is 5 MB of corpus); otherwise just under it.
    p.nextInt(4) === 0
      ? {
          name: 'http.oversized-body',
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ models { id } }', variables: { pad: 'x'.repeat((5 << 20) + 1) } }),
        }
      : {
          name: 'http.large-body',
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ models { id } }', variables: { pad: 'x'.repeat(1 << 20) } }),
        },
  (p, t) => {
    const q = pick(p, [
      '{ serverInfo { version } }',
      'mutation { cancelTraining(id: "x") { id } }',
      `{ samples(count: ${pick(p, LITERALS)}) { id } }`,
      '{ nope }',
      `{ model(id: "${t.modelId}") { id } }`,
      '{{',
    ]);
    const params = new URLSearchParams({ query: q });
    if (p.nextInt(3) === 0) params.set('variables', pick(p, ['{', '[]', '{"a":1}', 'null']));
    return {
      name: 'http.get',
      method: 'GET',
      path: `/graphql?${params.toString()}`,
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    };
  },
  (p) => ({
    name: 'http.get-bare',
    method: 'GET',
    path: pick(p, ['/graphql?query=', '/graphql?query=%FF%FE', '/graphql?variables=%7B%7D', '/graphql?query[]=a&query[]=b']),
    headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
  }),
];

/** Every generator by its family: one of each operation, then the document and HTTP ones. */
const FAMILIES: Gen[] = [...Object.values(OPERATIONS), ...DOCUMENTS, ...HTTP];

/**
 * `count` seeded cases: the first pass visits every generator once (so every operation is hit even in
 * a short corpus), then generators are drawn at random. Half the cases carry the admin key, a few a bad key.
 */
export function generateCorpus(seed: number, count: number, targets: CorpusTargets = DEFAULT_TARGETS): FuzzCase[] {
  const p = createPrng(seed);
  const cases: FuzzCase[] = [];
  for (let id = 0; id < count; id++) {
    const gen = id < FAMILIES.length ? FAMILIES[id] : pick(p, FAMILIES);
    const roll = p.nextInt(20);
    const auth: FuzzCase['auth'] = roll < 10 ? 'admin' : roll < 19 ? 'none' : 'bad';
    cases.push({ id, auth, ...gen(p, targets) });
  }
  return cases;
}

/** Names of the operation generators: the schema's every Query, Mutation and Subscription field. */
export const OPERATION_NAMES = Object.keys(OPERATIONS);
