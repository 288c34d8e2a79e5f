import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usableProviders } from '../../src/onnx/onnx-providers';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';
import { startTestServer, type TestServer } from '../helpers/server';

const { runtime, skipReason } = onnxRuntimeForTests('onnx.http.test');

interface Sample {
  id: string;
  backend: string;
  regeneratedOn: string | null;
  image: { dataUrl: string };
}

interface ModelEngines {
  models: { id: string; name: string; engines: { pass: string; engine: string; reason: string | null }[] }[];
}

const ENGINES = '{ models { id name engines { pass engine reason } } }';

/** The shipped DCGAN (a copy), served on ONNX Runtime in-process (the worker path has its own test: test/inference/onnx-executor.test.ts). */
describe.skipIf(skipReason !== undefined)('ganql with GANQL_BACKEND=onnxruntime,wasm', () => {
  let server: TestServer;
  let modelId: string;

  beforeAll(async () => {
    server = await startTestServer({}, { GANQL_BACKEND: 'onnxruntime,wasm', GANQL_INFERENCE_WORKERS: '0' }, { tempModels: true });
    const body = await server.gql<{ models: { id: string; name: string }[] }>('{ models { id name } }');
    modelId = body.data!.models.find((m) => m.name === 'dcgan-mnist')!.id;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('names both engines in serverInfo, /healthz and /metrics', async () => {
    const body = await server.gql<{ serverInfo: { backend: string; customKernels: string[]; pool: { executor: string } } }>(
      '{ serverInfo { backend customKernels pool { executor } } }',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.serverInfo.backend).toBe('onnxruntime+wasm');
    expect(body.data!.serverInfo.pool.executor).toBe('in-process onnxruntime (1 thread) and wasm');
    // The tfjs backend's own kernels are still there for the passes tfjs serves.
    expect(body.data!.serverInfo.customKernels.length).toBeGreaterThan(0);
    const health = await server.http.get('/healthz');
    expect(health.body).toMatchObject({ status: 'ok', backend: 'onnxruntime+wasm' });
    const metrics = await server.http.get('/metrics');
    expect(metrics.text).toContain('ganql_backend_info{backend="onnxruntime+wasm"} 1');
  });

  it('shows each pass on onnxruntime in models { engines }, from the ONNX file it wrote beside the generator at load', async () => {
    const body = await server.gql<ModelEngines>(ENGINES);
    expect(body.errors).toBeUndefined();
    expect(body.data!.models.find((m) => m.id === modelId)!.engines).toEqual([{ pass: 'GENERATE', engine: 'onnxruntime', reason: null }]);
    const one = await server.gql<{ model: { engines: unknown[] } }>(`{ model(id: "${modelId}") { engines { pass engine reason } } }`);
    expect(one.data!.model.engines).toEqual([{ pass: 'GENERATE', engine: 'onnxruntime', reason: null }]);
    expect(existsSync(path.join(server.ganql.config.modelsDir, 'dcgan-mnist', 'generator.onnx'))).toBe(true);
  });

  it('records the engine of each sample: onnxruntime, and wasm where filters are removed; sample(id) regenerates the same bytes', async () => {
    const body = await server.gql<{ samples: Sample[] }>(
      `{ samples(modelId: "${modelId}", count: 3, seed: 7) { id backend regeneratedOn image { dataUrl } } }`,
    );
    expect(body.errors).toBeUndefined();
    const made = body.data!.samples;
    expect(made.map((s) => s.backend)).toEqual(['onnxruntime', 'onnxruntime', 'onnxruntime']);
    expect(made.map((s) => s.regeneratedOn)).toEqual([null, null, null]);
    for (const sample of made) {
      const again = await server.gql<{ sample: Sample }>(`{ sample(id: "${sample.id}") { id backend regeneratedOn image { dataUrl } } }`);
      expect(again.data!.sample).toEqual(sample);
    }
    const runs = await server.gql<{ runs: { edges: { node: { kind: string; backend: string } }[] } }>('{ runs(first: 1) { edges { node { kind backend } } } }');
    expect(runs.data!.runs.edges[0].node).toEqual({ kind: 'REGENERATE', backend: 'onnxruntime+wasm' });

    const removed = await server.gql<{ samples: Sample[] }>(
      `{ samples(modelId: "${modelId}", count: 2, seed: 7, removeFilters: { layer: "g_up1", filters: [0, 1] }) { id backend regeneratedOn image { dataUrl } } }`,
    );
    expect(removed.errors).toBeUndefined();
    expect(removed.data!.samples.map((s) => s.backend)).toEqual(['wasm', 'wasm']);
    // Not the same images: the removal happened.
    expect(removed.data!.samples[0].image.dataUrl).not.toBe(made[0].image.dataUrl);
    const again = await server.gql<{ sample: Sample }>(`{ sample(id: "${removed.data!.samples[1].id}") { id backend regeneratedOn image { dataUrl } } }`);
    expect(again.data!.sample).toEqual(removed.data!.samples[1]);
  });

  it("serves a training job's new version on onnxruntime, its generator and its classifier", async () => {
    const started = await server.gql<{ startTraining: { id: string } }>('mutation($input: StartTrainingInput!) { startTraining(input: $input) { id } }', {
      input: {
        ...{ mode: 'KPLUSONE', architecture: 'MLP', labelsPerClass: 10, epochs: 1, batchSize: 100, limit: 300, seed: 5 },
        techniques: { featureMatching: { layer: 'd_hidden5', batch: 'SEPARATE' } },
      },
    });
    expect(started.errors).toBeUndefined();
    const jobId = started.data!.startTraining.id;
    let job: { state: string; modelId: string | null; error: string | null; spec: { techniques: { featureMatching: unknown } } } | undefined;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const body = await server.gql<{ trainingJob: NonNullable<typeof job> }>(
        'query($id: ID!) { trainingJob(id: $id) { state modelId error spec { techniques { featureMatching { layer batch } } } } }',
        { id: jobId },
      );
      job = body.data!.trainingJob;
      if (!['QUEUED', 'RUNNING'].includes(job.state)) break;
    }
    expect(job).toMatchObject({ state: 'SUCCEEDED', error: null, spec: { techniques: { featureMatching: { layer: 'd_hidden5', batch: 'SEPARATE' } } } });
    const newId = job!.modelId!;
    const body = await server.gql<ModelEngines>(ENGINES);
    expect(body.data!.models.find((m) => m.id === newId)!.engines).toEqual([
      { pass: 'GENERATE', engine: 'onnxruntime', reason: null },
      { pass: 'CLASSIFY', engine: 'onnxruntime', reason: null },
    ]);
    const samples = await server.gql<{ samples: Sample[] }>(`{ samples(modelId: "${newId}", count: 2, seed: 1) { id backend regeneratedOn } }`);
    expect(samples.errors).toBeUndefined();
    expect(samples.data!.samples.map((s) => [s.backend, s.regeneratedOn])).toEqual([
      ['onnxruntime', null],
      ['onnxruntime', null],
    ]);
  });
});

/** GANQL_ONNX_PROVIDERS=cuda,cpu on a machine without the CUDA provider's libraries (as every machine ganql is tested on). */
describe.skipIf(skipReason !== undefined)('ganql asked for the CUDA execution provider where it does not load', () => {
  let server: TestServer;
  let cudaWorks = false;

  beforeAll(async () => {
    cudaWorks = (await usableProviders(runtime!, ['cuda', 'cpu'])).note === undefined;
    if (cudaWorks) process.stderr.write('onnx.http.test: the CUDA provider loads here; the CPU fallback is not exercised\n');
    server = await startTestServer(
      {},
      { GANQL_BACKEND: 'onnxruntime,wasm', GANQL_ONNX_PROVIDERS: 'cuda,cpu', GANQL_INFERENCE_WORKERS: '1' },
      { tempModels: true },
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('falls back to the CPU provider, says why with each pass, and serves samples on onnxruntime', async ({ skip }) => {
    if (cudaWorks) skip();
    const info = await server.gql<{ serverInfo: { backend: string; pool: { executor: string } } }>('{ serverInfo { backend pool { executor } } }');
    expect(info.data!.serverInfo).toEqual({ backend: 'onnxruntime+wasm', pool: { executor: '1 worker thread (onnxruntime 1 thread each, wasm)' } });
    const body = await server.gql<ModelEngines>(ENGINES);
    const [engine] = body.data!.models.find((m) => m.name === 'dcgan-mnist')!.engines;
    expect(engine.engine).toBe('onnxruntime');
    expect(engine.reason).toMatch(/^the CUDA execution provider did not load \(.+\); ONNX Runtime runs on the CPU provider$/);
    const samples = await server.gql<{ samples: Sample[] }>('{ samples(count: 2, seed: 3) { id backend regeneratedOn } }');
    expect(samples.errors).toBeUndefined();
    expect(samples.data!.samples.map((s) => s.backend)).toEqual(['onnxruntime', 'onnxruntime']);
  });
});

/** The server-level fallback: onnxruntime-node asked for (GANQL_BACKEND lists it) but it does not load. */
describe('ganql when onnxruntime-node does not load', () => {
  let server: TestServer;
  const reason = 'onnxruntime-node did not load: Cannot find module (test stand-in)';

  beforeAll(async () => {
    server = await startTestServer(
      {},
      { GANQL_BACKEND: 'onnxruntime,wasm', GANQL_INFERENCE_WORKERS: '0' },
      { tempModels: true, ganql: { loadOnnxRuntime: () => ({ ok: false, reason }) } },
    );
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('serves everything on the tfjs backend, and says why with each pass', async () => {
    const info = await server.gql<{ serverInfo: { backend: string; pool: { executor: string } } }>('{ serverInfo { backend pool { executor } } }');
    expect(info.data!.serverInfo).toEqual({ backend: 'wasm', pool: { executor: 'in-process wasm' } });
    const body = await server.gql<ModelEngines>(ENGINES);
    expect(body.data!.models.find((m) => m.name === 'dcgan-mnist')!.engines).toEqual([{ pass: 'GENERATE', engine: 'wasm', reason }]);
    const samples = await server.gql<{ samples: Sample[] }>('{ samples(count: 2, seed: 3) { id backend regeneratedOn } }');
    expect(samples.data!.samples.map((s) => [s.backend, s.regeneratedOn])).toEqual([
      ['wasm', null],
      ['wasm', null],
    ]);
    // No ONNX file was made: nothing was exported.
    expect(existsSync(path.join(server.ganql.config.modelsDir, 'dcgan-mnist', 'generator.onnx'))).toBe(false);
  });
});
