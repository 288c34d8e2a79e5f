/**
 * Makes the docs' latent-space pictures through the public GraphQL API of a real in-process server,
 * so each picture comes with the query that made it:
 *
 *   npx tsx scripts/readme-figures.ts        writes docs/walk.png and docs/arithmetic.png, prints the queries and answers
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { graphqlAt, withLocalGanql } from './lib/local-ganql';

const DOCS = path.resolve(__dirname, '../docs');

/** The data of each query below, as far as it selects. */
interface SampleAnswer {
  samples: { id: string; index: number; modelId: string; latent: number[]; image: { width: number; height: number; dataUrl: string } }[];
}
interface GridAnswer {
  grid: { dataUrl: string; width: number; height: number };
}

/** 28x28 digits are too small to see on a page: each pixel becomes ZOOM x ZOOM pixels, unsmoothed. */
const ZOOM = 4;

/** A PNG scaled up by `zoom` with nearest-neighbour sampling, so the served pixels stay visible as they are. */
function upscalePng(bytes: Buffer, zoom: number): Buffer {
  const source = PNG.sync.read(bytes);
  const target = new PNG({ width: source.width * zoom, height: source.height * zoom });
  for (let y = 0; y < target.height; y++) {
    for (let x = 0; x < target.width; x++) {
      const from = (Math.floor(y / zoom) * source.width + Math.floor(x / zoom)) * 4;
      const to = (y * target.width + x) * 4;
      source.data.copy(target.data, to, from, from + 4);
    }
  }
  return PNG.sync.write(target, { colorType: 0 });
}

function savePng(name: string, dataUrl: string): void {
  const png = upscalePng(Buffer.from(dataUrl.split(',')[1], 'base64'), ZOOM);
  writeFileSync(path.join(DOCS, name), png);
  console.log(`wrote docs/${name} (${ZOOM}x nearest-neighbour)`);
}

async function main(): Promise<void> {
  await withLocalGanql(async (base) => {
    const gql = graphqlAt(base);
    const sampleQuery = '{ samples(count: 2, seed: 7) { id index modelId latent image { width height dataUrl } } }';
    const answer = await gql<SampleAnswer>(sampleQuery);
    const shortened = {
      samples: answer.samples.map((s) => ({
        ...s,
        latent: [...s.latent.slice(0, 3).map((v) => Number(v.toFixed(4))), '...'],
        image: { ...s.image, dataUrl: `${s.image.dataUrl.slice(0, 40)}...` },
      })),
    };
    console.log(`\n# example\n${sampleQuery}\n${JSON.stringify(shortened, null, 2)}`);

    const grid = await gql<{ samples: { id: string; latent: number[] }[] }>('{ samples(count: 16, seed: 7) { id latent } }');
    const ids = grid.samples.map((s) => s.id);

    const walkQuery = `{ interpolate(from: { sampleId: "${ids[0]}" }, to: { sampleId: "${ids[1]}" }, steps: 10, method: SLERP) { grid { dataUrl width height } samples { id } } }`;
    const walk = await gql<{ interpolate: GridAnswer & { samples: { id: string }[] } }>(walkQuery);
    savePng('walk.png', walk.interpolate.grid.dataUrl);
    console.log(`\n# walk (ids are samples(count: 16, seed: 7)[0] and [1])\n${walkQuery}`);

    const concept = (from: number) =>
      `{ coefficient: COEF, exemplars: [${ids
        .slice(from, from + 3)
        .map((id) => `{ sampleId: "${id}" }`)
        .join(', ')}] }`;
    const arithmeticQuery = `{ latentArithmetic(terms: [${concept(2).replace('COEF', '1')}, ${concept(5).replace('COEF', '-1')}, ${concept(8).replace('COEF', '1')}], noise: 0.25, neighbours: 8, seed: 3) { grid { dataUrl width height } concepts { mean { image { dataUrl } } } } }`;
    const box = await gql<{ latentArithmetic: GridAnswer & { concepts: { mean: { image: { dataUrl: string } } }[] } }>(arithmeticQuery);
    savePng('arithmetic.png', box.latentArithmetic.grid.dataUrl);
    console.log(`\n# arithmetic (samples(count: 16, seed: 7)[2..4] - [5..7] + [8..10])\n${arithmeticQuery}`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
