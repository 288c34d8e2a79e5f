import express from 'express';
import { Registry } from 'prom-client';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import type { PoolConfig } from '../../src/config/config';
import type { Executor } from '../../src/inference/executor';
import { InferencePool, type PoolStats } from '../../src/inference/pool';
import { createEvaluationGauges, createMetrics } from '../../src/metrics/metrics';

const IDLE: PoolStats = { queued: 0, tensors: 0, batches: 0, items: 0, largestBatch: 0 };

/** The value of one series in Prometheus text format, e.g. series(text, 'x_total{outcome="ok"}'). */
function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`series ${name} not in the exposition:\n${text}`);
  return Number(line.slice(name.length + 1));
}

function setup(poolStats: () => PoolStats = () => IDLE, processMetrics = false) {
  const registry = new Registry();
  const metrics = createMetrics({ registry, poolStats, backend: 'wasm', processMetrics });
  return { registry, metrics, text: () => registry.metrics() };
}

describe('createMetrics', () => {
  it('histograms batch size, queue wait and compute time per model from batch events', async () => {
    const { metrics, text } = setup();
    metrics.poolListener.onBatch!({ modelId: 'dcgan-mnist@1', pass: 'generate', size: 3, queueWaitMs: 4, computeMs: 20, ok: true });
    metrics.poolListener.onBatch!({ modelId: 'dcgan-mnist@1', pass: 'generate', size: 64, queueWaitMs: 300, computeMs: 150, ok: true });
    metrics.poolListener.onBatch!({ modelId: 'other@2', pass: 'layer', size: 1, queueWaitMs: 0.5, computeMs: 2, ok: false });
    metrics.poolListener.onBatch!({ modelId: 'dcgan-mnist@1', pass: 'stimulus', size: 1, queueWaitMs: 1, computeMs: 900, ok: true });
    const out = await text();
    const m = 'model="dcgan-mnist@1",pass="generate"';
    // size 3 falls in le=4 and above; 64 in le=64 and above.
    expect(series(out, `ganql_inference_batch_size_bucket{le="2",${m}}`)).toBe(0);
    expect(series(out, `ganql_inference_batch_size_bucket{le="4",${m}}`)).toBe(1);
    expect(series(out, `ganql_inference_batch_size_bucket{le="32",${m}}`)).toBe(1);
    expect(series(out, `ganql_inference_batch_size_bucket{le="64",${m}}`)).toBe(2);
    expect(series(out, `ganql_inference_batch_size_bucket{le="256",${m}}`)).toBe(2);
    expect(series(out, `ganql_inference_batch_size_sum{${m}}`)).toBe(67);
    expect(series(out, `ganql_inference_batch_size_count{${m}}`)).toBe(2);
    expect(series(out, 'ganql_inference_batch_size_sum{model="other@2",pass="layer"}')).toBe(1);
    // Each pass has its own series: an optimal-stimulus search does not blur the generator's batch times.
    expect(series(out, 'ganql_inference_compute_seconds_sum{model="dcgan-mnist@1",pass="stimulus"}')).toBeCloseTo(0.9, 12);
    // Milliseconds in, seconds out: 4 ms + 300 ms, 20 ms + 150 ms.
    expect(series(out, `ganql_inference_queue_wait_seconds_sum{${m}}`)).toBeCloseTo(0.304, 12);
    expect(series(out, `ganql_inference_queue_wait_seconds_bucket{le="0.005",${m}}`)).toBe(1);
    expect(series(out, `ganql_inference_queue_wait_seconds_bucket{le="0.25",${m}}`)).toBe(1);
    expect(series(out, `ganql_inference_queue_wait_seconds_bucket{le="0.5",${m}}`)).toBe(2);
    expect(series(out, `ganql_inference_compute_seconds_sum{${m}}`)).toBeCloseTo(0.17, 12);
    expect(series(out, `ganql_inference_compute_seconds_bucket{le="0.025",${m}}`)).toBe(1);
    expect(series(out, `ganql_inference_compute_seconds_bucket{le="0.1",${m}}`)).toBe(1);
    expect(series(out, `ganql_inference_compute_seconds_bucket{le="0.25",${m}}`)).toBe(2);
    expect(series(out, 'ganql_inference_compute_seconds_count{model="other@2",pass="layer"}')).toBe(1);
  });

  it('counts requests by outcome, every outcome present from the start', async () => {
    const { metrics, text } = setup();
    const before = await text();
    for (const outcome of ['ok', 'overloaded', 'timeout', 'error', 'unavailable']) {
      expect(series(before, `ganql_inference_requests_total{outcome="${outcome}"}`)).toBe(0);
    }
    metrics.poolListener.onRequest!('ok', 16);
    metrics.poolListener.onRequest!('ok', 1);
    metrics.poolListener.onRequest!('overloaded', 256);
    metrics.poolListener.onRequest!('timeout', 2);
    const out = await text();
    expect(series(out, 'ganql_inference_requests_total{outcome="ok"}')).toBe(2);
    expect(series(out, 'ganql_inference_requests_total{outcome="overloaded"}')).toBe(1);
    expect(series(out, 'ganql_inference_requests_total{outcome="timeout"}')).toBe(1);
    expect(series(out, 'ganql_inference_requests_total{outcome="error"}')).toBe(0);
    expect(series(out, 'ganql_inference_requests_total{outcome="unavailable"}')).toBe(0);
  });

  it('reads the queue depth from the pool at each scrape, and names the backend', async () => {
    let queued = 7;
    const { text } = setup(() => ({ ...IDLE, queued }));
    expect(series(await text(), 'ganql_inference_queue_items')).toBe(7);
    queued = 4096;
    const out = await text();
    expect(series(out, 'ganql_inference_queue_items')).toBe(4096);
    expect(series(out, 'ganql_backend_info{backend="wasm"}')).toBe(1);
  });

  it('counts image answers by result from zero, and reads the image cache at each scrape', async () => {
    let stats = { entries: 0, bytes: 0 };
    const registry = new Registry();
    const metrics = createMetrics({ registry, poolStats: () => IDLE, backend: 'wasm', processMetrics: false, imageCacheStats: () => stats });
    const before = await registry.metrics();
    for (const result of ['cached', 'regenerated', 'not_found', 'failed']) expect(series(before, `ganql_image_requests_total{result="${result}"}`)).toBe(0);
    metrics.onImageServed('cached');
    metrics.onImageServed('cached');
    metrics.onImageServed('regenerated');
    stats = { entries: 3, bytes: 1234 };
    const out = await registry.metrics();
    expect(series(out, 'ganql_image_requests_total{result="cached"}')).toBe(2);
    expect(series(out, 'ganql_image_requests_total{result="regenerated"}')).toBe(1);
    expect(series(out, 'ganql_image_requests_total{result="not_found"}')).toBe(0);
    expect(series(out, 'ganql_image_cache_entries')).toBe(3);
    expect(series(out, 'ganql_image_cache_bytes')).toBe(1234);
  });

  it('gives every ganql_ metric help text and a type', async () => {
    const out = await setup().text();
    const names = [
      ['ganql_inference_queue_items', 'gauge'],
      ['ganql_inference_tensors', 'gauge'],
      ['ganql_inference_batch_size', 'histogram'],
      ['ganql_inference_queue_wait_seconds', 'histogram'],
      ['ganql_inference_compute_seconds', 'histogram'],
      ['ganql_inference_requests_total', 'counter'],
      ['ganql_backend_info', 'gauge'],
      ['ganql_http_requests_in_progress', 'gauge'],
      ['ganql_http_requests_waiting', 'gauge'],
      ['ganql_http_requests_rejected_total', 'counter'],
      ['ganql_auth_refusals_total', 'counter'],
      ['ganql_image_requests_total', 'counter'],
      ['ganql_image_cache_bytes', 'gauge'],
      ['ganql_image_cache_entries', 'gauge'],
    ];
    for (const [name, type] of names) {
      expect(out).toMatch(new RegExp(`^# HELP ${name} \\S.{10,}$`, 'm'));
      expect(out).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(out.match(/^# TYPE /gm)).toHaveLength(names.length);
  });

  it('registers process metrics (RSS, event-loop lag) on the given registry only', async () => {
    const { registry } = setup(undefined, true);
    const out = await registry.metrics();
    expect(series(out, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(out).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    // A second server in the same process gets its own registry: no duplicate-name clash, no shared state.
    const other = setup(undefined, true);
    expect(series(await other.text(), 'ganql_inference_requests_total{outcome="ok"}')).toBe(0);
  });

  it('follows a real InferencePool: batches, outcomes and queue depth', async () => {
    const options: PoolConfig = { maxBatchSize: 4, maxQueueDelayMs: 5, maxQueueSize: 6, requestTimeoutMs: 1000 };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const executor: Executor = {
      description: 'fake',
      concurrency: 1,
      async generate(_id, latents) {
        await gate;
        return latents.map((v) => -v);
      },
      classify: () => Promise.reject(new Error('no classifier in this fake')),
      hasClassifier: () => false,
      servingOf: () => ({ generate: { engine: 'fake' } }),
      enginesOf: () => ['fake'],
      layerPass: () => Promise.reject(new Error('no feature network in this fake')),
      hasFeatureNetwork: () => false,
      optimalStimulus: () => Promise.reject(new Error('no feature network in this fake')),
      loadModel: () => Promise.reject(new Error('fixed models in this fake')),
      unloadModel: () => Promise.reject(new Error('fixed models in this fake')),
      tensorCount: () => 0,
      async close() {},
    };
    const registry = new Registry();
    // The wiring app.ts uses: the getter is only called at scrape time, once the pool exists.
    const metrics = createMetrics({ registry, poolStats: () => pool.stats(), backend: 'wasm', processMetrics: false });
    const pool = new InferencePool(executor, options, metrics.poolListener);
    const z = Float32Array.of(1);
    const pending = [pool.generate('m', [z, z, z]), pool.generate('m', [z, z])];
    const refused = pool.generate('m', [z, z]).catch((e: unknown) => e);
    expect(series(await registry.metrics(), 'ganql_inference_queue_items')).toBe(5);
    release();
    await Promise.all(pending);
    await refused;
    const out = await registry.metrics();
    expect(series(out, 'ganql_inference_queue_items')).toBe(0);
    expect(series(out, 'ganql_inference_requests_total{outcome="ok"}')).toBe(2);
    expect(series(out, 'ganql_inference_requests_total{outcome="overloaded"}')).toBe(1);
    // 5 items at maxBatchSize 4: one batch of 4, one of 1.
    expect(series(out, 'ganql_inference_batch_size_count{model="m",pass="generate"}')).toBe(2);
    expect(series(out, 'ganql_inference_batch_size_sum{model="m",pass="generate"}')).toBe(5);
    expect(series(out, 'ganql_inference_batch_size_bucket{le="1",model="m",pass="generate"}')).toBe(1);
  });
});

describe('GET /metrics handler', () => {
  it('answers the Prometheus text format over HTTP', async () => {
    const { metrics } = setup(() => ({ ...IDLE, queued: 3 }));
    metrics.poolListener.onRequest!('error', 1);
    const app = express();
    app.get('/metrics', metrics.handler);
    const res = await supertest(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(series(res.text, 'ganql_inference_queue_items')).toBe(3);
    expect(series(res.text, 'ganql_inference_requests_total{outcome="error"}')).toBe(1);
  });
});

describe('createEvaluationGauges', () => {
  it('keeps the latest value of each metric per model and scorer; Parzen per model; a metric not computed leaves its gauge alone', async () => {
    const registry = new Registry();
    const gauges = createEvaluationGauges(registry);
    const m = 'model="g@1",scorer="mnist-cnn"';
    gauges.record({ modelId: 'g@1', scorer: 'mnist-cnn', isMean: 6.2, fid: 33.3, kidMean: 7.5, parzenMean: 87.6, at: new Date(1_700_000_000_000) });
    gauges.record({ modelId: 'g@1', scorer: 'mnist-cnn', isMean: 6.5, fid: null, kidMean: undefined, parzenMean: null, at: new Date(1_700_000_060_000) });
    gauges.record({ modelId: 'g@2', scorer: 'mnist-cnn', isMean: 7, at: new Date(1_700_000_120_000) });
    const text = await registry.metrics();
    expect(series(text, `ganql_evaluation_inception_score{${m}}`)).toBe(6.5);
    expect(series(text, `ganql_evaluation_fid{${m}}`)).toBe(33.3);
    expect(series(text, `ganql_evaluation_kid{${m}}`)).toBe(7.5);
    expect(series(text, 'ganql_evaluation_parzen_log_likelihood{model="g@1"}')).toBe(87.6);
    expect(series(text, `ganql_evaluation_timestamp_seconds{${m}}`)).toBe(1_700_000_060);
    expect(series(text, 'ganql_evaluation_inception_score{model="g@2",scorer="mnist-cnn"}')).toBe(7);
    expect(text).not.toContain('ganql_evaluation_fid{model="g@2"');
    expect(text).toContain('# HELP ganql_evaluation_fid ');
  });
});
