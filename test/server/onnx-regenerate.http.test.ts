import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';
import { MODELS_DIR, startTestServer, tempModelsDir, type TestServer } from '../helpers/server';

const { skipReason } = onnxRuntimeForTests('onnx-regenerate.http.test');

interface Sample {
  id: string;
  backend: string;
  regeneratedOn: string | null;
  image: { dataUrl: string };
}

/** Seeded batches of the shipped DCGAN: ONNX Runtime and wasm make a different PNG for a few of their 1,024 latents (see operations.md). */
const SEEDS = [1, 2, 3, 4];
const COUNT = 256;
const FIELDS = 'id backend regeneratedOn image { dataUrl }';

/**
 * One SQLite file and one models folder, three servers one after the other: wasm, then ONNX Runtime,
 * then wasm again. A sample's bytes depend on the engine that made it; sample(id) must give the
 * original bytes back on a server with that engine, whatever it serves new samples on, and say so
 * when it does not have it.
 */
describe.skipIf(skipReason !== undefined)('sample(id) across restarts that change the engine', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let overrides: { modelsDir: string; scorersDir: string };
  let server: TestServer | undefined;
  /** Per seed, the samples each engine made of the same latents. */
  const made: { wasm: Sample[][]; onnx: Sample[][] } = { wasm: [], onnx: [] };
  /** [seed index, position] of latents whose PNGs differ between the engines. */
  let differing: [number, number][] = [];

  const start = async (backend: string): Promise<TestServer> => (server = await startTestServer(overrides, { ...env, GANQL_BACKEND: backend }));
  const stop = async (): Promise<void> => {
    await server?.stop();
    server = undefined;
  };
  const sample = async (s: TestServer, id: string): Promise<Sample> => {
    const body = await s.gql<{ sample: Sample }>(`{ sample(id: "${id}") { ${FIELDS} } }`);
    expect(body.errors).toBeUndefined();
    return body.data!.sample;
  };
  const samples = async (s: TestServer, seed: number): Promise<Sample[]> => {
    const body = await s.gql<{ samples: Sample[] }>(`{ samples(count: ${COUNT}, seed: ${seed}) { ${FIELDS} } }`);
    expect(body.errors).toBeUndefined();
    return body.data!.samples;
  };

  /** GET /images/<id>.png, as a data URL to compare with the API's. */
  const imageUrl = async (s: TestServer, id: string): Promise<string> => {
    const res = await s.http.get(`/images/${id}.png`).buffer(true);
    expect(res.status).toBe(200);
    return `data:image/png;base64,${(res.body as Buffer).toString('base64')}`;
  };
  const neighbourSamples = async (s: TestServer, ids: string[]): Promise<Sample[]> => {
    const body = await s.gql<{ nearestNeighbours: { sample: Sample }[] }>(`{ nearestNeighbours(sampleIds: ${JSON.stringify(ids)}) { sample { ${FIELDS} } } }`);
    expect(body.errors).toBeUndefined();
    return body.data!.nearestNeighbours.map((n) => n.sample);
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-regenerate-'));
    overrides = { modelsDir: tempModelsDir(dir), scorersDir: path.join(MODELS_DIR, 'scorers') };
    env = { DATABASE_URL: `file:${path.join(dir, 'ganql.db')}`, GANQL_INFERENCE_WORKERS: '0' };
  });

  afterAll(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('made on wasm: the samples record wasm', async () => {
    const s = await start('wasm');
    for (const seed of SEEDS) made.wasm.push(await samples(s, seed));
    expect(new Set(made.wasm.flat().map((x) => x.backend))).toEqual(new Set(['wasm']));
    await stop();
  });

  it('restarted on onnxruntime: new samples are made on it; sample(id) of a wasm sample gives its wasm bytes', async () => {
    const s = await start('onnxruntime,wasm');
    for (const seed of SEEDS) made.onnx.push(await samples(s, seed));
    expect(new Set(made.onnx.flat().map((x) => x.backend))).toEqual(new Set(['onnxruntime']));
    differing = made.wasm.flatMap((batch, b) =>
      batch.flatMap((w, i): [number, number][] => (w.image.dataUrl !== made.onnx[b][i].image.dataUrl ? [[b, i]] : [])),
    );
    // Without such latents this test could not tell the engines apart.
    expect(differing.length).toBeGreaterThan(0);
    expect(differing.length).toBeLessThan(SEEDS.length * COUNT * 0.05);
    // The image URL regenerates (nothing of these ids is in this process's memory) as sample(id) does.
    const [b0, i0] = differing[0];
    expect(await imageUrl(s, made.wasm[b0][i0].id)).toBe(made.wasm[b0][i0].image.dataUrl);
    for (const [b, i] of differing.slice(0, 3)) {
      expect(await sample(s, made.wasm[b][i].id)).toEqual(made.wasm[b][i]);
      expect(await sample(s, made.onnx[b][i].id)).toEqual(made.onnx[b][i]);
    }
    // Regenerating several at once (nearestNeighbours) goes by each sample's engine too.
    const [b, i] = differing[0];
    const both = [made.wasm[b][i], made.onnx[b][i]];
    expect(
      await neighbourSamples(
        s,
        both.map((x) => x.id),
      ),
    ).toEqual(both);
    await stop();
  });

  it('restarted on wasm alone: an onnxruntime sample is regenerated on wasm, and says so, in the sample and in its run', async () => {
    const s = await start('wasm');
    const [b, i] = differing[0];
    const original = made.onnx[b][i];
    expect(await imageUrl(s, original.id)).toBe(made.wasm[b][i].image.dataUrl);
    const imageRun = await s.gql<{ runs: { edges: { node: { result: unknown } }[] } }>('{ runs(first: 1) { edges { node { result } } } }');
    expect(imageRun.data!.runs.edges[0].node.result).toEqual({ sampleId: original.id, regeneratedOn: 'wasm' });
    const again = await sample(s, original.id);
    expect(again).toEqual({ ...original, regeneratedOn: 'wasm', image: made.wasm[b][i].image });
    expect(again.image.dataUrl).not.toBe(original.image.dataUrl);
    const runs = await s.gql<{ runs: { edges: { node: { kind: string; result: unknown } }[] } }>('{ runs(first: 1) { edges { node { kind result } } } }');
    expect(runs.data!.runs.edges[0].node).toEqual({ kind: 'REGENERATE', result: { sampleId: original.id, regeneratedOn: 'wasm' } });
    // A wasm sample on a wasm server: the original bytes, nothing to say.
    expect(await sample(s, made.wasm[b][i].id)).toEqual(made.wasm[b][i]);
    expect(await neighbourSamples(s, [original.id, made.wasm[b][i].id])).toEqual([again, made.wasm[b][i]]);
    await stop();
  });
});
