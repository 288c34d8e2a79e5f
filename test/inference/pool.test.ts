import { describe, expect, it } from 'vitest';
import type { PoolConfig } from '../../src/config/config';
import { ErrorCode } from '../../src/errors/error-code';
import { GanqlError } from '../../src/errors/ganql-error';
import type { Executor, InferencePass, StimulusRequest, StimulusResult } from '../../src/inference/executor';
import type { FilterRemoval, LayerPass } from '../../src/inference/layer-passes';
import type { ModelSpec } from '../../src/inference/model-spec';
import type { ModelServing } from '../../src/inference/onnx-sessions';
import { encodePng } from '../../src/images/png';
import { InferencePool, type BatchEvent } from '../../src/inference/pool';

const OPTIONS: PoolConfig = { maxBatchSize: 8, maxQueueDelayMs: 5, maxQueueSize: 64, requestTimeoutMs: 1000 };

/**
 * generate doubles each value, classify outputs one "logit" per item (the sum of its values); both
 * record batch sizes and fail on an item whose first value is NaN. loadModel records the specs.
 */
class FakeExecutor implements Executor {
  readonly description = 'fake';
  readonly concurrency = 1;
  readonly batches: number[] = [];
  readonly passes: { pass: InferencePass; modelId: string; n: number; setting?: string }[] = [];
  readonly loaded: ModelSpec[] = [];
  delayMs = 0;
  closed = false;

  /** On engine "other", triples instead. */
  async generate(modelId: string, latents: Float32Array, n: number, removal?: FilterRemoval, engine?: string): Promise<Float32Array> {
    const settings = [removal && `${removal.layer}:${removal.filters.join(',')}`, engine && `on:${engine}`].filter((x) => x !== undefined);
    await this.run('generate', modelId, latents, n, settings.length > 0 ? settings.join(' ') : undefined);
    return latents.map((v) => v * (engine === 'other' ? 3 : 2));
  }

  /** Adds the layer name's length to each value, so a test can tell passes apart. */
  async layerPass(modelId: string, pass: LayerPass, input: Float32Array, n: number): Promise<Float32Array> {
    await this.run('layer', modelId, input, n, `${pass.kind}:${pass.layer}`);
    return input.map((v) => v + pass.layer.length);
  }

  hasFeatureNetwork(modelId: string): boolean {
    return modelId !== 'no-features';
  }

  async optimalStimulus(modelId: string, request: StimulusRequest): Promise<StimulusResult> {
    await this.run('layer', modelId, Float32Array.of(request.neuron), 1, `stimulus:${request.layer}`);
    return { image: Float32Array.of(request.neuron), activation: request.neuron * 10, trace: [request.neuron] };
  }

  async classify(modelId: string, images: Float32Array, n: number): Promise<Float32Array> {
    await this.run('classify', modelId, images, n);
    const size = images.length / n;
    return Float32Array.from({ length: n }, (_, i) => images.subarray(i * size, (i + 1) * size).reduce((a, b) => a + b, 0));
  }

  hasClassifier(modelId: string): boolean {
    return this.loaded.some((s) => s.id === modelId && s.classifier !== undefined);
  }

  servingOf(): ModelServing {
    return { generate: { engine: 'fake' } };
  }

  enginesOf(): string[] {
    return ['fake', 'other'];
  }

  async loadModel(spec: ModelSpec): Promise<void> {
    if (spec.id === 'broken') throw new Error('cannot load broken');
    this.loaded.push(spec);
  }

  async unloadModel(modelId: string): Promise<void> {
    this.loaded.splice(0, this.loaded.length, ...this.loaded.filter((spec) => spec.id !== modelId));
  }

  private async run(pass: InferencePass, modelId: string, input: Float32Array, n: number, setting?: string): Promise<void> {
    this.batches.push(n);
    this.passes.push({ pass, modelId, n, ...(setting !== undefined ? { setting } : {}) });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const size = input.length / n;
    for (let i = 0; i < n; i++) if (Number.isNaN(input[i * size])) throw new Error('poisoned item');
  }

  tensorCount(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const z = (...values: number[]) => Float32Array.from(values);

describe('InferencePool', () => {
  it('batches items of concurrent requests, up to maxBatchSize, and returns each its own result in order', async () => {
    const executor = new FakeExecutor();
    const events: BatchEvent[] = [];
    const pool = new InferencePool(executor, OPTIONS, { onBatch: (e) => events.push(e) });
    const requests = Array.from({ length: 5 }, (_, r) => pool.generate('m', [z(r, 1), z(r, 2), z(r, 3)]));
    const results = await Promise.all(requests);
    results.forEach((images, r) =>
      expect(images.map((a) => Array.from(a))).toEqual([
        [2 * r, 2],
        [2 * r, 4],
        [2 * r, 6],
      ]),
    );
    expect(executor.batches).toEqual([8, 7]);
    expect(events.map((e) => e.size)).toEqual([8, 7]);
    expect(pool.stats()).toMatchObject({ queued: 0, batches: 2, items: 15, largestBatch: 8 });
  });

  it('while every executor slot is busy, items arriving apart still gather into one batch', async () => {
    const executor = new FakeExecutor();
    executor.delayMs = 60;
    const pool = new InferencePool(executor, { ...OPTIONS, maxQueueDelayMs: 1, maxBatchSize: 64 });
    const first = pool.generate('m', [z(0)]);
    await new Promise((r) => setTimeout(r, 10));
    // Ten requests 3 ms apart (longer than the 1 ms batching delay) while the first batch computes.
    const later: Promise<Float32Array[]>[] = [];
    for (let i = 1; i <= 10; i++) {
      later.push(pool.generate('m', [z(i)]));
      await new Promise((r) => setTimeout(r, 3));
    }
    await first;
    const results = await Promise.all(later);
    expect(results.map((r) => r[0][0])).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(executor.batches).toEqual([1, 10]);
  });

  it('generateImages: each image with its PNG, in batches of their own; an executor without generatePngs is encoded for', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, OPTIONS);
    const format = { width: 2, height: 1, channels: 1 as const, range: [0, 10] as [number, number] };
    const [images, plain] = await Promise.all([pool.generateImages('m', [z(1, 2), z(3, 4)], format), pool.generate('m', [z(5, 5)])]);
    expect(images.map((i) => Array.from(i.pixels))).toEqual([
      [2, 4],
      [6, 8],
    ]);
    images.forEach((image) => expect(image.png.equals(encodePng(image.pixels, 2, 1, 1, [0, 10]))).toBe(true));
    expect(Array.from(plain[0])).toEqual([10, 10]);
    // Images with PNGs and plain pixels do not share a batch.
    expect(executor.batches.sort()).toEqual([1, 2]);
  });

  it('keeps one model per batch', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, OPTIONS);
    await Promise.all([pool.generate('a', [z(1)]), pool.generate('b', [z(2)]), pool.generate('a', [z(3)])]);
    expect(executor.batches.sort()).toEqual([1, 2]);
  });

  it('fails only the bad item of a batch', async () => {
    const pool = new InferencePool(new FakeExecutor(), OPTIONS);
    const [good, bad, alsoGood] = await Promise.allSettled([pool.generate('m', [z(1)]), pool.generate('m', [z(NaN)]), pool.generate('m', [z(3)])]);
    expect(good).toMatchObject({ status: 'fulfilled', value: [z(2)] });
    expect(alsoGood).toMatchObject({ status: 'fulfilled', value: [z(6)] });
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason.message).toBe('poisoned item');
  });

  it('refuses a request that does not fit the queue with OVERLOADED, at once, and serves again afterwards', async () => {
    const executor = new FakeExecutor();
    executor.delayMs = 50;
    const outcomes: string[] = [];
    const pool = new InferencePool(executor, { ...OPTIONS, maxQueueSize: 10 }, { onRequest: (o) => outcomes.push(o) });
    const admitted = pool.generate(
      'm',
      Array.from({ length: 8 }, (_, i) => z(i)),
    );
    const started = performance.now();
    const refused = await pool.generate('m', [z(1), z(2), z(3)]).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(20);
    expect(refused).toBeInstanceOf(GanqlError);
    expect((refused as GanqlError).code).toBe(ErrorCode.OVERLOADED);
    expect((refused as GanqlError).message).toBe('inference queue full (8 of 10 items waiting, request needs 3); retry later');
    await admitted;
    expect(await pool.generate('m', [z(1), z(2), z(3)])).toHaveLength(3);
    expect(outcomes).toEqual(['overloaded', 'ok', 'ok']);
  });

  it('fails a request that outlives requestTimeoutMs with TIMEOUT and skips its items if they have not run', async () => {
    const executor = new FakeExecutor();
    executor.delayMs = 100;
    const pool = new InferencePool(executor, { ...OPTIONS, maxBatchSize: 1, requestTimeoutMs: 30 });
    const slow = pool.generate('m', [z(1), z(2), z(3)]).catch((e: unknown) => e);
    const error = await slow;
    expect((error as GanqlError).code).toBe(ErrorCode.TIMEOUT);
    expect((error as GanqlError).message).toBe('inference did not finish within 30 ms');
    await pool.onIdle();
    // The first item was already running; the other two were abandoned before their batches ran.
    expect(executor.batches).toEqual([1]);
    expect(pool.stats().queued).toBe(0);
  });

  it('close() lets admitted work finish, then refuses new work with UNAVAILABLE', async () => {
    const executor = new FakeExecutor();
    executor.delayMs = 20;
    const pool = new InferencePool(executor, OPTIONS);
    const inFlight = pool.generate('m', [z(5)]);
    const closing = pool.close();
    await expect(pool.generate('m', [z(1)])).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    expect(await inFlight).toEqual([z(10)]);
    await closing;
    expect(executor.closed).toBe(true);
  });

  it('batches classifier items of concurrent requests per model, apart from generator items, and returns each its own logits', async () => {
    const executor = new FakeExecutor();
    const events: BatchEvent[] = [];
    const pool = new InferencePool(executor, OPTIONS, { onBatch: (e) => events.push(e) });
    const [c1, g, c2, other] = await Promise.all([
      pool.classify('m', [z(1, 2), z(3, 4)]),
      pool.generate('m', [z(5, 6)]),
      pool.classify('m', [z(10, 20), z(30, 40), z(50, 60)]),
      pool.classify('n', [z(7, 7)]),
    ]);
    expect(c1.map((a) => Array.from(a))).toEqual([[3], [7]]);
    expect(c2.map((a) => Array.from(a))).toEqual([[30], [70], [110]]);
    expect(Array.from(g[0])).toEqual([10, 12]);
    expect(Array.from(other[0])).toEqual([14]);
    // One classify batch of 5 for m (two requests), one generate batch, one classify batch for n.
    expect(executor.passes.sort((a, b) => `${a.pass}${a.modelId}`.localeCompare(`${b.pass}${b.modelId}`))).toEqual([
      { pass: 'classify', modelId: 'm', n: 5 },
      { pass: 'classify', modelId: 'n', n: 1 },
      { pass: 'generate', modelId: 'm', n: 1 },
    ]);
    expect(events.map((e) => e.size).sort()).toEqual([1, 1, 5]);
    expect(pool.stats()).toMatchObject({ queued: 0, batches: 3, items: 7, largestBatch: 5 });
  });

  it('fails only the bad image of a classifier batch, and shares the queue limit with generate', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, { ...OPTIONS, maxQueueSize: 4 });
    const settled = await Promise.allSettled([pool.classify('m', [z(1)]), pool.classify('m', [z(NaN)]), pool.classify('m', [z(3)])]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('poisoned item');
    executor.delayMs = 30;
    const admitted = pool.generate('m', [z(1), z(2), z(3)]);
    await expect(pool.classify('m', [z(1), z(2)])).rejects.toMatchObject({
      code: ErrorCode.OVERLOADED,
      message: 'inference queue full (3 of 4 items waiting, request needs 2); retry later',
    });
    await admitted;
    executor.delayMs = 100;
    const slow = new InferencePool(executor, { ...OPTIONS, maxBatchSize: 1, requestTimeoutMs: 30 });
    await expect(slow.classify('m', [z(1), z(2)])).rejects.toMatchObject({ code: ErrorCode.TIMEOUT, message: 'inference did not finish within 30 ms' });
    await slow.onIdle();
    expect(slow.stats().queued).toBe(0);
  });

  it('loadModel hands the spec to the executor, refuses after close, and hasClassifier follows the executor', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, OPTIONS);
    const spec: ModelSpec = { id: 'k@1', dir: '/models/k/generator', classifier: { dir: '/models/k/classifier', imageShape: [28, 28, 1], classes: 10 } };
    expect(pool.hasClassifier('k@1')).toBe(false);
    await pool.loadModel(spec);
    expect(executor.loaded).toEqual([spec]);
    expect(pool.hasClassifier('k@1')).toBe(true);
    await expect(pool.loadModel({ id: 'broken', dir: '/x' })).rejects.toThrow('cannot load broken');
    await pool.close();
    await expect(pool.loadModel({ id: 'late@1', dir: '/x' })).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    expect(executor.loaded).toHaveLength(1);
  });

  it('unloadModel: new work for the model is NOT_FOUND, a batch still gathering reaches no executor, and loadModel serves it again', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, { ...OPTIONS, maxQueueDelayMs: 20 });
    const spec: ModelSpec = { id: 'm@1', dir: '/models/m/generator' };
    await pool.loadModel(spec);
    const gathering = pool.generate('m@1', [z(1)]);
    await pool.unloadModel('m@1');
    await expect(gathering).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND, message: 'model "m@1" was archived: it is no longer served' });
    await expect(pool.generate('m@1', [z(2)])).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(pool.optimalStimulus('m@1', { layer: 'enc', neuron: 1, steps: 1, stepSize: 1, maxNorm: 1, seed: 0 })).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    expect(executor.loaded).toEqual([]);
    expect(executor.passes).toEqual([]);
    // Other models are served as before.
    expect(await pool.generate('other@1', [z(3)])).toEqual([z(3).map((v) => v * 2)]);
    await pool.loadModel(spec);
    expect(await pool.generate('m@1', [z(4)])).toEqual([z(4).map((v) => v * 2)]);
    expect(pool.stats().queued).toBe(0);
  });

  it('batches layer passes and filter removals only with requests of the same setting', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, OPTIONS);
    const removeA = { removeFilters: { layer: 'g_up1_relu', filters: [3, 1] } };
    const [a, b, c, d, e] = await Promise.all([
      pool.layerPass('m', { kind: 'neurons', layer: 'enc' }, [z(1), z(2)]),
      pool.layerPass('m', { kind: 'neurons', layer: 'enc' }, [z(3)]),
      pool.layerPass('m', { kind: 'neurons', layer: 'enc_code' }, [z(4)]),
      pool.generate('m', [z(5)], removeA),
      pool.generate('m', [z(6)], { removeFilters: { layer: 'g_up1_relu', filters: [1, 3] } }),
    ]);
    expect([...a[0], ...a[1], ...b[0], ...c[0]]).toEqual([4, 5, 6, 12]);
    expect([...d[0], ...e[0]]).toEqual([10, 12]);
    const settings = executor.passes.map((p) => `${p.pass} ${p.setting ?? ''} ${p.n}`).sort();
    // Same layer shares one batch; another layer, or a removal, gets its own; the filter order does not matter.
    expect(settings).toEqual(['generate g_up1_relu:3,1 2', 'layer neurons:enc 3', 'layer neurons:enc_code 1']);
    // Loaders of user-chosen settings are dropped once dispatched, so they cannot pile up.
    const loaders = (pool as unknown as { loaders: Map<string, unknown> }).loaders;
    expect([...loaders.keys()].filter((k) => !k.startsWith('generate\u0000') && !k.startsWith('classify\u0000'))).toEqual([]);
    // No removal (or an empty one) is a plain generate.
    await pool.generate('m', [z(7)], { removeFilters: { layer: 'g_up1_relu', filters: [] } });
    expect(executor.passes.at(-1)).toEqual({ pass: 'generate', modelId: 'm', n: 1 });
  });

  it('generates on the engine asked for, batched only with requests for that engine; the default engine is a plain generate', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, OPTIONS);
    expect(pool.engineOf('m', 'generate')).toBe('fake');
    expect(pool.enginesOf('m', 'generate')).toEqual(['fake', 'other']);
    const [a, b, c, d] = await Promise.all([
      pool.generate('m', [z(1)]),
      pool.generate('m', [z(2)], { engine: 'other' }),
      pool.generate('m', [z(3)], { engine: 'other' }),
      pool.generate('m', [z(4)], { engine: 'fake' }),
    ]);
    // "other" triples, the default doubles.
    expect([a[0][0], b[0][0], c[0][0], d[0][0]]).toEqual([2, 6, 9, 8]);
    const settings = executor.passes.map((p) => `${p.pass} ${p.setting ?? ''} ${p.n}`).sort();
    expect(settings).toEqual(['generate  2', 'generate on:other 2']);
  });

  it('runs an optimal-stimulus search on an executor slot, within the queue limit', async () => {
    const executor = new FakeExecutor();
    const pool = new InferencePool(executor, { ...OPTIONS, maxQueueSize: 2 });
    const request = { layer: 'enc', neuron: 4, steps: 10, stepSize: 0.1, maxNorm: 5, seed: 1 };
    const result = await pool.optimalStimulus('m', request);
    expect(result.activation).toBe(40);
    expect([...result.image]).toEqual([4]);
    executor.delayMs = 30;
    const busy = pool.generate('m', [z(1), z(2)]);
    await expect(pool.optimalStimulus('m', request)).rejects.toMatchObject({ code: ErrorCode.OVERLOADED });
    await busy;
    executor.delayMs = 100;
    const slow = new InferencePool(executor, { ...OPTIONS, requestTimeoutMs: 20 });
    await expect(slow.optimalStimulus('m', request)).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    await slow.onIdle();
    expect(slow.stats().queued).toBe(0);
    await pool.close();
    await expect(pool.optimalStimulus('m', request)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });

  it('rejects invalid options with the option named', () => {
    expect(() => new InferencePool(new FakeExecutor(), { ...OPTIONS, maxBatchSize: 0 })).toThrow('expected maxBatchSize >= 1, got 0');
    expect(() => new InferencePool(new FakeExecutor(), { ...OPTIONS, maxQueueDelayMs: -1 })).toThrow('expected maxQueueDelayMs >= 0, got -1');
  });
});
