/**
 * The feature-analysis figures and numbers of docs/research.md, made through the public GraphQL API of
 * a real in-process server, so each comes with the query that made it:
 *
 *   npx tsx scripts/feature-figures.ts     writes docs/features/*.png and prints the queries and figures
 *
 * The feature learner is the shipped autoencoder (architecture "autoencoder") when there is one,
 * else the DCGAN's discriminator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gridPng } from '../src/images/grid';
import { decodePng } from '../src/images/png';
import { graphqlAt, withLocalGanql } from './lib/local-ganql';

const OUT = path.resolve(__dirname, '../docs/features');
/** Each picture's pixels are drawn this many times larger (nearest neighbour), so 28x28 digits are visible. */
const ZOOM = 4;

/** The data of each query below, as far as it selects. */
interface Model {
  id: string;
  architecture: string;
  featureNetworkRole: string | null;
  featureLayers: { name: string; className: string; outputShape: number[]; neurons: number }[] | null;
}
interface TestImage {
  index: number;
  label: string;
  activation: number;
  image: { dataUrl: string };
}
interface ProbedNeuron {
  neuron: number;
  accuracy: number;
  threshold: number | null;
  topImages: TestImage[];
}
interface OptimalStimulus {
  activation: number;
  maxTestActivation: number;
  preActivation: number | null;
  maxTestPreActivation: number | null;
  exceedsEveryTestImage: boolean;
  norm: number;
  maxNorm: number;
  stepSize: number;
  image: { dataUrl: string };
  bestTestImage: TestImage;
}
interface ClassifierScore {
  accuracy: number;
  c: number;
  features: number;
}
interface ScorerReading {
  meanProbability: number;
  share: number;
  conceptSampleProbability: number;
  otherSampleProbability: number;
}
interface ConceptFilters {
  filters: { filter: number; weight: number }[];
  positiveFilters: number;
  conceptSamples: number;
  check: { conceptSamples: number; before: ScorerReading; after: ScorerReading };
}

/** A PNG data URL as float pixels in [0, 255], each pixel repeated ZOOM x ZOOM. */
function zoomed(dataUrl: string): { pixels: Float32Array; width: number; height: number } {
  const png = decodePng(Buffer.from(dataUrl.split(',')[1], 'base64'));
  if (png.channels !== 1) throw new Error(`expected grayscale PNGs, got ${png.channels} channels`);
  const width = png.width * ZOOM;
  const height = png.height * ZOOM;
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = png.data[Math.floor(y / ZOOM) * png.width + Math.floor(x / ZOOM)];
  return { pixels, width, height };
}

function saveStrip(name: string, dataUrls: string[]): void {
  const images = dataUrls.map(zoomed);
  writeFileSync(
    path.join(OUT, name),
    gridPng(
      images.map((i) => i.pixels),
      { width: images[0].width, height: images[0].height, channels: 1, range: [0, 255], columns: images.length, padding: 4 },
    ),
  );
  console.log(`wrote docs/features/${name}`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  await withLocalGanql(async (base) => {
    const gql = graphqlAt(base);
    const show = (title: string, query: string): void => console.log(`\n# ${title}\n${query.replace(/\s+/g, ' ').trim()}`);

    const { models } = await gql<{ models: Model[] }>('{ models { id architecture featureNetworkRole featureLayers { name className outputShape neurons } } }');
    const dcgan = models.find((m) => m.id.startsWith('dcgan-mnist@'));
    if (!dcgan) throw new Error(`expected a dcgan-mnist model, got ${models.map((m) => m.id).join(', ')}`);
    const learner = models.find((m) => m.architecture === 'autoencoder') ?? dcgan;
    console.log(`feature learner: ${learner.id}`);

    // The best "digit 0" neuron over the learner's layers, and the best neuron of each digit.
    const probe = (layer: string, concept: string, neurons: number, topImages: number) =>
      `{ neuronProbe(modelId: "${learner.id}", layer: "${layer}", concept: "${concept}", neurons: ${neurons}, topImages: ${topImages}) { positives negatives neurons { neuron accuracy threshold topImages { index label activation image { dataUrl } } } } }`;
    let best: ProbedNeuron & { layer: string } = { layer: '', neuron: -1, accuracy: 0, threshold: 0, topImages: [] };
    const table: string[] = [];
    for (const layer of learner.featureLayers ?? []) {
      const row: string[] = [];
      for (const digit of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
        const { neuronProbe } = await gql<{ neuronProbe: { positives: number; negatives: number; neurons: ProbedNeuron[] } }>(probe(layer.name, digit, 1, 8));
        const top = neuronProbe.neurons[0];
        row.push(top.accuracy.toFixed(3));
        if (digit === '0' && top.accuracy > best.accuracy) best = { layer: layer.name, ...top };
      }
      table.push(`| ${layer.name} (${layer.neurons}) | ${row.join(' | ')} |`);
    }
    console.log(
      `\n# best neuron per digit (balanced accuracy, chance 0.5)\n| layer (neurons) | ${[...'0123456789'].join(' | ')} |\n|---|${'---|'.repeat(10)}\n${table.join('\n')}`,
    );
    show(
      `best "digit 0" neuron: ${best.layer} #${best.neuron}, accuracy ${best.accuracy.toFixed(3)}, threshold ${best.threshold === null ? 'none' : best.threshold.toFixed(4)}`,
      probe(best.layer, '0', 1, 8),
    );
    console.log(`top images: ${best.topImages.map((t) => `${t.label} (${t.activation.toFixed(3)})`).join(', ')}`);
    saveStrip(
      'digit0-top-images.png',
      best.topImages.map((t) => t.image.dataUrl),
    );

    const stimulusQuery = `{ optimalStimulus(modelId: "${learner.id}", layer: "${best.layer}", neuron: ${best.neuron}, steps: 200) { activation maxTestActivation preActivation maxTestPreActivation exceedsEveryTestImage norm maxNorm stepSize image { dataUrl } bestTestImage { index label activation image { dataUrl } } } }`;
    const { optimalStimulus } = await gql<{ optimalStimulus: OptimalStimulus }>(stimulusQuery);
    show(
      `optimal stimulus: activation ${optimalStimulus.activation} vs the best test image's ${optimalStimulus.maxTestActivation} (test image ${optimalStimulus.bestTestImage.index}, a ${optimalStimulus.bestTestImage.label}); ` +
        `pre-activation ${optimalStimulus.preActivation?.toFixed(2)} vs ${optimalStimulus.maxTestPreActivation?.toFixed(2)}; ||x - c|| ${optimalStimulus.norm.toFixed(2)} <= maxNorm ${optimalStimulus.maxNorm.toFixed(2)}; exceeds every test image: ${optimalStimulus.exceedsEveryTestImage}`,
      stimulusQuery,
    );
    // The stimulus beside the test image that activates the neuron most.
    saveStrip('digit0-optimal-stimulus.png', [optimalStimulus.image.dataUrl, optimalStimulus.bestTestImage.image.dataUrl]);

    // DCGAN's protocol on the DCGAN's discriminator, beside raw pixels with the same labels.
    for (const labelsPerClass of [10, 100]) {
      const query = `{ featureClassifier(modelId: "${dcgan.id}", layers: ["d_down1_lrelu", "d_down2_lrelu"], labelsPerClass: ${labelsPerClass}) { trainCount testCount features { accuracy c features } rawPixels { accuracy c features } } }`;
      const { featureClassifier: r } = await gql<{
        featureClassifier: { trainCount: number; testCount: number; features: ClassifierScore; rawPixels: ClassifierScore };
      }>(query);
      show(
        `featureClassifier, ${labelsPerClass} labels per class: discriminator features ${r.features.accuracy.toFixed(3)} (${r.features.features} features, C ${r.features.c}) vs raw pixels ${r.rawPixels.accuracy.toFixed(3)} (C ${r.rawPixels.c})`,
        query,
      );
    }
    if (learner.id !== dcgan.id) {
      const layers = (learner.featureLayers ?? []).map((l) => `"${l.name}"`).join(', ');
      const query = `{ featureClassifier(modelId: "${learner.id}", layers: [${layers}], labelsPerClass: 10) { features { accuracy c features } rawPixels { accuracy } } }`;
      const { featureClassifier: r } = await gql<{ featureClassifier: { features: ClassifierScore; rawPixels: { accuracy: number } } }>(query);
      show(
        `featureClassifier on the feature learner's layers (${layers}), 10 labels per class: ${r.features.accuracy.toFixed(3)} (${r.features.features} features) vs raw pixels ${r.rawPixels.accuracy.toFixed(3)}`,
        query,
      );
    }

    // Filter removal on the DCGAN's generator.
    const filtersQuery = `{ conceptFilters(modelId: "${dcgan.id}", layer: "g_reshape", concept: "8", count: 20, samples: 500, checkSamples: 200) { filters { filter weight } positiveFilters conceptSamples check { conceptSamples before { meanProbability share conceptSampleProbability otherSampleProbability } after { meanProbability share conceptSampleProbability otherSampleProbability } } } }`;
    const { conceptFilters: f } = await gql<{ conceptFilters: ConceptFilters }>(filtersQuery);
    const { before, after } = f.check;
    show(
      `conceptFilters "8": filters ${f.filters.map((x) => x.filter).join(',')}; P(8) on the ${f.check.conceptSamples} check 8s ${before.conceptSampleProbability.toFixed(3)} -> ${after.conceptSampleProbability.toFixed(3)}; other samples' own-label P ${before.otherSampleProbability.toFixed(3)} -> ${after.otherSampleProbability.toFixed(3)}; share labelled 8 ${before.share} -> ${after.share}; mean P(8) over all ${before.meanProbability.toFixed(3)} -> ${after.meanProbability.toFixed(3)}`,
      filtersQuery,
    );
    const removal = `{ layer: "g_reshape", filters: [${f.filters.map((x) => x.filter).join(', ')}] }`;
    const pair = async (extra: string) =>
      (
        await gql<{ samples: { image: { dataUrl: string } }[] }>(`{ samples(modelId: "${dcgan.id}", seed: 1, count: 8${extra}) { image { dataUrl } } }`)
      ).samples.map((s) => s.image.dataUrl);
    saveStrip('filters8-before.png', await pair(''));
    saveStrip('filters8-after.png', await pair(`, removeFilters: ${removal}`));
    show('samples with and without the filters', `{ samples(modelId: "${dcgan.id}", seed: 1, count: 8, removeFilters: ${removal}) { image { dataUrl } } }`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
