/**
 * Load on a running ganql (loopback only): N concurrent clients for T seconds, each sending one
 * request after another, a mix of operations or one named operation.
 *
 *   npx tsx bench/load.ts [http://127.0.0.1:4000/graphql] [--clients 256] [--seconds 60]
 *       [--operation mix|samples|models|sample|classify] [--key gq_...] [--max-rss-growth 0.2]
 *
 * mix: samples(count 1..4) 40%, sample(id) 25%, models 20%, classify 15% (when the server has a
 * K+1 model; its share goes to samples otherwise). Prints throughput, failures by code, latency
 * p50/p99/max, and the server's RSS and live inference tensors (from /metrics:
 * process_resident_memory_bytes, ganql_inference_tensors) at the start, after a tenth of the run,
 * at the end and at most. Exit code 1 on any failed request, on tensors left over, or when RSS at
 * the end is more than --max-rss-growth above its reading after the first tenth (the warm-up).
 */
import os from 'node:os';
import { numberArg, stringArg } from './lib/cli-args';
import { errorsByCode, quantile, runHttpWorker } from './lib/http-load';
import { loopbackUrl } from './lib/replay';

const OPERATIONS = ['mix', 'samples', 'models', 'sample', 'classify'] as const;
type Operation = (typeof OPERATIONS)[number];

interface ServerGauges {
  rss: number;
  tensors: number;
}

/** RSS and inference tensors from the server's Prometheus endpoint (with the --key, which it needs when GANQL_METRICS_SCOPE is set). */
async function gauges(origin: string, headers: Record<string, string>): Promise<ServerGauges> {
  const text = await (await fetch(`${origin}/metrics`, { headers, signal: AbortSignal.timeout(10_000) })).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    if (line === undefined) throw new Error(`/metrics: expected ${name}, got none`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { rss: value('process_resident_memory_bytes'), tensors: value('ganql_inference_tensors') };
}

async function graphql<T>(
  url: string,
  headers: Record<string, string>,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T; errors?: { message: string }[] }> {
  const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: T; errors?: { message: string }[] };
}

/** The id of a served model that classifies (one image of zeros classifies), if any. */
async function findClassifier(url: string, headers: Record<string, string>): Promise<{ id: string; size: number } | undefined> {
  const models = await graphql<{ models: { id: string; imageShape: { height: number; width: number; channels: number } }[] }>(
    url,
    headers,
    '{ models { id imageShape { height width channels } } }',
  );
  if (!models.data) throw new Error(`models: expected data, got ${JSON.stringify(models.errors)}`);
  for (const m of models.data.models) {
    const size = m.imageShape.height * m.imageShape.width * m.imageShape.channels;
    const probe = await graphql(url, headers, 'query($m: ID!, $i: [ImageInput!]!) { classify(modelId: $m, images: $i) { label } }', {
      m: m.id,
      i: [{ pixels: new Array(size).fill(0) }],
    });
    if (probe.data) return { id: m.id, size };
  }
  return undefined;
}

/** Request bodies for `operation`, in a shuffled order the clients go through in turn. */
function bodiesFor(operation: Operation, sampleId: string, classifier: { id: string; size: number } | undefined): string[] {
  const samples = (i: number) => JSON.stringify({ query: `{ samples(count: ${1 + (i % 4)}, seed: ${i}) { id image { dataUrl } } }` });
  const sample = () => JSON.stringify({ query: 'query($id: ID!) { sample(id: $id) { id image { dataUrl } } }', variables: { id: sampleId } });
  const models = () => JSON.stringify({ query: '{ models { id name latentSize imageShape { height width channels } } }' });
  const classify = (i: number) =>
    JSON.stringify({
      query: 'query($m: ID!, $i: [ImageInput!]!) { classify(modelId: $m, images: $i) { label confidence } }',
      variables: { m: classifier!.id, i: [{ pixels: Array.from({ length: classifier!.size }, (_, k) => (k * 7 + i * 13) % 256) }] },
    });
  const make: Record<Exclude<Operation, 'mix'>, (i: number) => string> = { samples, sample, models, classify };
  if (operation !== 'mix') return Array.from({ length: 20 }, (_, i) => make[operation](i));
  // 20 requests in turn: 8 samples, 5 sample(id), 4 models, 3 classify (more samples without a classifier).
  const c = classifier ? 'classify' : 'samples';
  const plan = [
    'samples',
    'sample',
    'models',
    c,
    'samples',
    'sample',
    'samples',
    'models',
    'sample',
    'samples',
    c,
    'sample',
    'models',
    'samples',
    'samples',
    'sample',
    c,
    'samples',
    'models',
    'samples',
  ] as const;
  return plan.map((o, i) => make[o](i));
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<number> {
  const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  const url = loopbackUrl(positional[0] ?? 'http://127.0.0.1:4000/graphql');
  if (url.pathname === '/') url.pathname = '/graphql';
  const clients = numberArg('clients', 256, 1, 4096);
  const seconds = numberArg('seconds', 60, 1, 3600);
  const operation = stringArg('operation', 'mix') as Operation;
  if (!OPERATIONS.includes(operation)) throw new Error(`--operation: expected one of ${OPERATIONS.join(', ')}, got ${JSON.stringify(operation)}`);
  const maxRssGrowth = numberArg('max-rss-growth', 0.2, 0, 100);
  const key = stringArg('key', '');
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};

  const health = await fetch(`${url.origin}/healthz`);
  if (health.status !== 200) throw new Error(`${url.origin}/healthz: expected 200, got ${health.status} ${await health.text()}`);
  const made = await graphql<{ samples: { id: string }[] }>(url.href, headers, '{ samples(count: 1, seed: 1) { id } }');
  if (!made.data) throw new Error(`samples: expected data, got ${JSON.stringify(made.errors)}`);
  const classifier = operation === 'mix' || operation === 'classify' ? await findClassifier(url.href, headers) : undefined;
  if (operation === 'classify' && !classifier) throw new Error('--operation classify: expected a served K+1 model, got none');
  const bodies = bodiesFor(operation, made.data.samples[0].id, classifier);

  const start = await gauges(url.origin, headers);
  const readings: { atS: number; g: ServerGauges }[] = [];
  const t0 = performance.now();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!polling) break;
      try {
        readings.push({ atS: (performance.now() - t0) / 1000, g: await gauges(url.origin, headers) });
      } catch {
        // A missed reading under load is not a failure of the server; the requests' own errors are.
      }
    }
  })();
  const result = await runHttpWorker({ url: url.href, bodies, headers, graphql: true, clients, seconds });
  polling = false;
  await poller;
  // Idle a moment: in-flight work settles before the end reading.
  await new Promise((r) => setTimeout(r, 2000));
  const end = await gauges(url.origin, headers);

  const ok = result.latenciesMs.length;
  const failures = errorsByCode(result);
  const failed = Object.values(failures).reduce((a, b) => a + b, 0);
  const warm = readings.find((r) => r.atS >= seconds / 10)?.g ?? start;
  const maxRss = Math.max(start.rss, end.rss, ...readings.map((r) => r.g.rss));
  const rssGrowth = (end.rss - warm.rss) / warm.rss;
  const tensorsLeft = end.tensors - warm.tensors;

  console.log(
    `${url.href}: ${clients} clients for ${seconds} s, operation ${operation}${operation === 'mix' ? ` (classify ${classifier ? `on ${classifier.id}` : 'skipped: no K+1 model'})` : ''}, ${key ? 'with a key' : 'anonymous'}`,
  );
  console.log(
    `this machine: ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (server, clients and anything else share them)`,
  );
  console.log(
    `requests: ${ok + failed} in ${(result.elapsedMs / 1000).toFixed(1)} s, ${ok} ok, ${failed} failed; throughput ${(ok / (result.elapsedMs / 1000)).toFixed(1)} ok requests/s`,
  );
  for (const [code, n] of Object.entries(failures)) console.log(`  ${n} x ${code}`);
  for (const [why, n] of Object.entries(result.errors).slice(0, 5)) console.log(`    e.g. ${n} x ${why.slice(0, 200)}`);
  console.log(
    `latency of ok requests: p50 ${quantile(result.latenciesMs, 0.5).toFixed(1)} ms, p99 ${quantile(result.latenciesMs, 0.99).toFixed(1)} ms, max ${quantile(result.latenciesMs, 1).toFixed(1)} ms`,
  );
  console.log(
    `server RSS: start ${mib(start.rss)}, after ${(seconds / 10).toFixed(0)} s ${mib(warm.rss)}, end ${mib(end.rss)}, max ${mib(maxRss)} (${(rssGrowth * 100).toFixed(1)}% after warm-up)`,
  );
  const step = Math.max(1, Math.floor(readings.length / 10));
  console.log(
    `  RSS over the run: ${readings
      .filter((_, i) => i % step === 0)
      .map((r) => `${r.atS.toFixed(0)}s ${mib(r.g.rss)}`)
      .join(', ')}`,
  );
  console.log(`inference tensors: start ${start.tensors}, after warm-up ${warm.tensors}, end ${end.tensors}`);
  const problems = [
    failed > 0 ? `${failed} failed requests` : '',
    tensorsLeft !== 0 ? `${tensorsLeft} tensors more than after warm-up` : '',
    rssGrowth > maxRssGrowth ? `RSS grew ${(rssGrowth * 100).toFixed(1)}% after warm-up (more than ${maxRssGrowth * 100}%)` : '',
  ].filter((p) => p !== '');
  console.log(problems.length === 0 ? 'PASS' : `FAIL: ${problems.join('; ')}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
