import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      databaseUrl: 'file:./data/ganql.db',
      modelsDir: path.resolve('models'),
      backendOrder: ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
      onnx: { enabled: true, threads: 1, providers: ['cpu'] },
      maxSamplesPerRequest: 256,
      modelStatePollMs: 1000,
      logLevel: 'info',
      pool: { maxBatchSize: 64, maxQueueDelayMs: 5, maxQueueSize: 4096, requestTimeoutMs: 30000 },
      queryLimits: { maxDepth: 12, maxAliases: 32, maxRootFields: 16, maxCost: 10000, maxImages: 256, maxAnalyses: 2 },
      training: { maxJobs: 1, resume: true, threads: Math.min(8, os.availableParallelism()) },
      http: { corsOrigins: [], publicUrl: undefined, imageCacheBytes: 16 * 1024 * 1024, metricsScope: undefined },
    });
  });

  it('reads the environment', () => {
    const config = loadConfig({
      PORT: '5000',
      GANQL_BACKEND: 'wasm, cpu',
      GANQL_MAX_SAMPLES: '16',
      GANQL_MAX_BATCH_SIZE: '8',
      DATABASE_URL: 'postgresql://u@h/db',
    });
    expect(config).toMatchObject({ port: 5000, backendOrder: ['wasm', 'cpu'], maxSamplesPerRequest: 16, databaseUrl: 'postgresql://u@h/db' });
    // A list without onnxruntime turns ONNX Runtime off; with it, the tfjs names in it (or all) serve the rest.
    expect(config.onnx.enabled).toBe(false);
    expect(loadConfig({ GANQL_BACKEND: 'onnxruntime,wasm', GANQL_ONNX_THREADS: '2' })).toMatchObject({
      backendOrder: ['wasm'],
      onnx: { enabled: true, threads: 2 },
    });
    expect(loadConfig({ GANQL_BACKEND: 'onnxruntime' })).toMatchObject({
      backendOrder: ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
      onnx: { enabled: true },
    });
    expect(loadConfig({ GANQL_ONNX_PROVIDERS: 'cuda, cpu' }).onnx.providers).toEqual(['cuda', 'cpu']);
    expect(loadConfig({ GANQL_ONNX_PROVIDERS: 'cuda' }).onnx.providers).toEqual(['cuda']);
    expect(config.pool.maxBatchSize).toBe(8);
    expect(loadConfig({ GANQL_TRAINING_THREADS: '0' }).training.threads).toBe(0);
    expect(loadConfig({ GANQL_MODEL_STATE_POLL_MS: '250' }).modelStatePollMs).toBe(250);
    expect(() => loadConfig({ GANQL_MODEL_STATE_POLL_MS: '50' })).toThrow('GANQL_MODEL_STATE_POLL_MS: expected an integer in 100..600000, got "50"');
    const limits = loadConfig({
      GANQL_MAX_QUERY_DEPTH: '5',
      GANQL_MAX_ALIASES: '0',
      GANQL_MAX_ROOT_FIELDS: '2',
      GANQL_MAX_QUERY_COST: '100',
      GANQL_MAX_IMAGES_PER_REQUEST: '9',
      GANQL_MAX_ANALYSES_PER_REQUEST: '0',
    }).queryLimits;
    expect(limits).toEqual({ maxDepth: 5, maxAliases: 0, maxRootFields: 2, maxCost: 100, maxImages: 9, maxAnalyses: 0 });
  });

  it('refuses bad values, naming the variable, what was expected and what came', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow('PORT: expected an integer in 0..65535, got "eighty"');
    expect(() => loadConfig({ GANQL_BACKEND: 'wasm,tpu' })).toThrow(
      'GANQL_BACKEND: expected a comma list of onnxruntime, tensorflow-gpu, tensorflow, wasm, cpu, got "tpu"',
    );
    expect(() => loadConfig({ GANQL_ONNX_THREADS: '0' })).toThrow('GANQL_ONNX_THREADS: expected an integer in 1..64, got "0"');
    expect(() => loadConfig({ GANQL_ONNX_PROVIDERS: 'cuda,tpu' })).toThrow('GANQL_ONNX_PROVIDERS: expected a comma list of cuda, cpu, got "tpu"');
    expect(() => loadConfig({ GANQL_ONNX_PROVIDERS: 'cpu,cpu' })).toThrow('GANQL_ONNX_PROVIDERS: expected each provider once, got "cpu" twice');
    expect(() => loadConfig({ GANQL_MAX_QUEUE_DELAY_MS: '-1' })).toThrow('GANQL_MAX_QUEUE_DELAY_MS: expected an integer in 0..10000, got "-1"');
    expect(() => loadConfig({ GANQL_MAX_QUERY_DEPTH: '0' })).toThrow('GANQL_MAX_QUERY_DEPTH: expected an integer in 1..1000, got "0"');
    expect(() => loadConfig({ GANQL_TRAINING_THREADS: '65' })).toThrow('GANQL_TRAINING_THREADS: expected an integer in 0..64, got "65"');
    expect(() => loadConfig({ GANQL_LOG_LEVEL: 'loud' })).toThrow('GANQL_LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:secret@h/db' })).toThrow(
      'DATABASE_URL: expected file:<path> or postgresql://..., got "mysql://***@h/db"',
    );
  });

  it('reads the HTTP settings: exact CORS origins, a public URL without its trailing slash, the metrics scope', () => {
    const http = loadConfig({
      GANQL_CORS_ORIGINS: ' https://app.example.com,http://localhost:5173 ,, https://app.example.com',
      GANQL_PUBLIC_URL: 'https://ganql.example.com/api/',
      GANQL_IMAGE_CACHE_BYTES: '0',
      GANQL_METRICS_SCOPE: ' Read ',
    }).http;
    expect(http).toEqual({
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      publicUrl: 'https://ganql.example.com/api',
      imageCacheBytes: 0,
      metricsScope: 'read',
    });
    expect(loadConfig({ GANQL_PUBLIC_URL: 'http://10.0.0.5:4000' }).http.publicUrl).toBe('http://10.0.0.5:4000');
  });

  it('refuses HTTP settings that are not what they should be, saying what was meant', () => {
    expect(() => loadConfig({ GANQL_CORS_ORIGINS: 'https://app.example.com/' })).toThrow(
      'GANQL_CORS_ORIGINS: expected a comma list of origins such as https://app.example.com (http or https, host and port, no path), got "https://app.example.com/" (the origin of that URL is "https://app.example.com")',
    );
    expect(() => loadConfig({ GANQL_CORS_ORIGINS: 'https://App.Example.com:443' })).toThrow('(the origin of that URL is "https://app.example.com")');
    expect(() => loadConfig({ GANQL_CORS_ORIGINS: '*' })).toThrow(
      'GANQL_CORS_ORIGINS: expected a comma list of origins such as https://app.example.com (http or https, host and port, no path), got "*"',
    );
    expect(() => loadConfig({ GANQL_CORS_ORIGINS: 'file:///index.html' })).toThrow('got "file:///index.html"');
    expect(() => loadConfig({ GANQL_PUBLIC_URL: '/ganql' })).toThrow(
      'GANQL_PUBLIC_URL: expected an absolute http(s) URL without query, fragment or credentials, such as https://ganql.example.com, got "/ganql"',
    );
    expect(() => loadConfig({ GANQL_PUBLIC_URL: 'https://ganql.example.com/?x=1' })).toThrow('GANQL_PUBLIC_URL: expected an absolute http(s) URL');
    expect(() => loadConfig({ GANQL_IMAGE_CACHE_BYTES: '-1' })).toThrow('GANQL_IMAGE_CACHE_BYTES: expected an integer in 0..1099511627776, got "-1"');
    expect(() => loadConfig({ GANQL_METRICS_SCOPE: 'read,admin' })).toThrow(
      'GANQL_METRICS_SCOPE: expected one scope of read, sample, train, admin, got "read,admin"',
    );
    expect(() => loadConfig({ GANQL_METRICS_SCOPE: 'metrics' })).toThrow(
      'GANQL_METRICS_SCOPE: expected scopes from read, sample, train, admin separated by commas, got "metrics"',
    );
  });
});
