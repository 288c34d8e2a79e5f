import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';
import { startTestServer, type TestServer } from '../helpers/server';

const { skipReason } = onnxRuntimeForTests('onnx.http.test');

interface Sample {
  id: string;
  backend: string;
  image: { dataUrl: string };
}

/** The shipped DCGAN, served on ONNX Runtime in-process (the worker path has its own test: test/inference/onnx-executor.test.ts). */
describe.skipIf(skipReason !== undefined)('ganql with GANQL_BACKEND=onnxruntime,wasm', () => {
  let server: TestServer;
  let modelId: string;

  beforeAll(async () => {
    server = await startTestServer({}, { GANQL_BACKEND: 'onnxruntime,wasm', GANQL_INFERENCE_WORKERS: '0' });
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

  it('records the engine of each sample: onnxruntime, and wasm where filters are removed; sample(id) regenerates the same bytes', async () => {
    const body = await server.gql<{ samples: Sample[] }>(`{ samples(modelId: "${modelId}", count: 3, seed: 7) { id backend image { dataUrl } } }`);
    expect(body.errors).toBeUndefined();
    const made = body.data!.samples;
    expect(made.map((s) => s.backend)).toEqual(['onnxruntime', 'onnxruntime', 'onnxruntime']);
    for (const sample of made) {
      const again = await server.gql<{ sample: Sample }>(`{ sample(id: "${sample.id}") { id backend image { dataUrl } } }`);
      expect(again.data!.sample).toEqual(sample);
    }
    const runs = await server.gql<{ runs: { edges: { node: { kind: string; backend: string } }[] } }>('{ runs(first: 1) { edges { node { kind backend } } } }');
    expect(runs.data!.runs.edges[0].node).toEqual({ kind: 'REGENERATE', backend: 'onnxruntime+wasm' });

    const removed = await server.gql<{ samples: Sample[] }>(
      `{ samples(modelId: "${modelId}", count: 2, seed: 7, removeFilters: { layer: "g_up1", filters: [0, 1] }) { id backend image { dataUrl } } }`,
    );
    expect(removed.errors).toBeUndefined();
    expect(removed.data!.samples.map((s) => s.backend)).toEqual(['wasm', 'wasm']);
    // Not the same images: the removal happened.
    expect(removed.data!.samples[0].image.dataUrl).not.toBe(made[0].image.dataUrl);
    const again = await server.gql<{ sample: Sample }>(`{ sample(id: "${removed.data!.samples[1].id}") { id backend image { dataUrl } } }`);
    expect(again.data!.sample).toEqual(removed.data!.samples[1]);
  });
});
