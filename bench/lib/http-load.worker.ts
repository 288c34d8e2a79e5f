/**
 * HTTP load on its own event loop (a worker thread), so the clients' work does not delay the
 * in-process server under test on the main thread, nor the timestamps taken here.
 * Run through runHttpWorker (./http-load.ts); posts 'started', then one HttpLoadResult.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpLoadJob, HttpLoadResult } from './http-load';

interface Reply {
  status: number;
  body: string;
}

function send(agent: http.Agent, url: URL, method: 'GET' | 'POST', body?: string, extra: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { agent, method, headers: body === undefined ? extra : { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Why a reply is not a success, or undefined when it is: HTTP 200 and, for GraphQL, data without errors. */
function failure(reply: Reply, graphql: boolean): string | undefined {
  if (reply.status !== 200) return `HTTP ${reply.status}: ${reply.body.slice(0, 200)}`;
  if (!graphql) return undefined;
  const parsed = JSON.parse(reply.body) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  if (parsed.errors?.length) return `${parsed.errors[0].extensions?.code ?? 'ERROR'}: ${parsed.errors[0].message}`;
  return parsed.data ? undefined : 'no data';
}

async function main(job: HttpLoadJob): Promise<HttpLoadResult> {
  const url = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.clients });
  const latencies: number[] = [];
  const completedAt: number[] = [];
  const errors = new Map<string, number>();
  const start = performance.now();
  const deadline = start + job.seconds * 1000;
  let started = 0;
  const more = () => performance.now() < deadline && (job.requests === undefined || started < job.requests);

  const client = async (): Promise<void> => {
    // Probes start late (once the load is on) and pace themselves; load clients go flat out.
    if (job.delayMs) await new Promise((r) => setTimeout(r, job.delayMs));
    while (more()) {
      const body = job.bodies ? job.bodies[started % job.bodies.length] : job.body;
      started++;
      const t0 = performance.now();
      let why: string | undefined;
      try {
        why = failure(await send(agent, url, body === undefined ? 'GET' : 'POST', body, job.headers), job.graphql);
      } catch (error) {
        why = error instanceof Error ? error.message : String(error);
      }
      const t1 = performance.now();
      if (why === undefined) {
        latencies.push(t1 - t0);
        completedAt.push(t1 - start);
      } else errors.set(why, (errors.get(why) ?? 0) + 1);
      if (job.intervalMs) await new Promise((r) => setTimeout(r, Math.max(0, job.intervalMs! - (t1 - t0))));
    }
  };
  parentPort!.postMessage('started');
  await Promise.all(Array.from({ length: job.clients }, client));
  const elapsedMs = performance.now() - start - (job.delayMs ?? 0);
  agent.destroy();
  return { latenciesMs: Float64Array.from(latencies), completedAtMs: Float64Array.from(completedAt), errors: Object.fromEntries(errors), elapsedMs };
}

// workerData is the HttpLoadJob runHttpWorker passed (it is the only starter of this file). A rejection
// goes unhandled, which ends the worker with an 'error' event that runHttpWorker rejects with.
void main(workerData as HttpLoadJob).then((result) => parentPort!.postMessage(result));
