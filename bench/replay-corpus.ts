/**
 * Replays a JSON-lines corpus of hostile requests against a running ganql (loopback only) and says
 * whether every reply was a result or coded GraphQL errors, whether the server stayed up, and (with
 * --database-url) whether the database holds no half-written rows.
 *
 *   npx tsx bench/replay-corpus.ts http://127.0.0.1:4000 corpus.jsonl [--key gq_...] [--concurrency 4]
 *       [--database-url file:./data/ganql.db] [--settle-seconds 60]
 *
 * A line is a FuzzCase (scripts/fuzz-corpus.ts writes them: method, path, headers, body or
 * bodyBase64, auth) or a plain GraphQL request body ({"query": ..., "variables": ...}), POSTed to
 * /graphql. "auth": "admin" cases present --key (or $GANQL_FUZZ_KEY). Training jobs the corpus
 * managed to start are cancelled (with the key) before the database is checked. Exit code 1 on any
 * uncoded, internal, leaking or non-JSON reply, a transport error, a server down afterwards, or a
 * violated database invariant.
 */
import { readFileSync } from 'node:fs';
import { openDatabase } from '../src/db/database';
import { numberArg, stringArg } from './lib/cli-args';
import { checkInvariants } from './lib/db-invariants';
import type { FuzzCase } from './lib/hostile-corpus';
import { loopbackUrl, replay, sendCase, toCase } from './lib/replay';

async function healthy(base: string): Promise<string> {
  try {
    const res = await fetch(new URL('/healthz', base), { signal: AbortSignal.timeout(10_000) });
    return res.status === 200 ? 'ok' : `HTTP ${res.status}: ${await res.text()}`;
  } catch (error) {
    return `unreachable (${error instanceof Error ? error.message : String(error)})`;
  }
}

async function graphql<T>(
  base: string,
  key: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T; errors?: unknown[] }> {
  const c: FuzzCase = {
    id: -1,
    name: 'check',
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    auth: key ? 'admin' : 'none',
  };
  return JSON.parse((await sendCase(base, c, key)).body) as { data?: T; errors?: unknown[] };
}

async function main(): Promise<number> {
  const [rawUrl, file] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  if (!rawUrl || !file)
    throw new Error('usage: npx tsx bench/replay-corpus.ts <http://127.0.0.1:PORT> <corpus.jsonl> [--key KEY] [--concurrency 4] [--database-url URL]');
  const url = loopbackUrl(rawUrl);
  const base = url.origin;
  const key = stringArg('key', process.env.GANQL_FUZZ_KEY ?? '') || undefined;
  const concurrency = numberArg('concurrency', 4, 1, 256);
  const databaseUrl = stringArg('database-url', '');
  const settleSeconds = numberArg('settle-seconds', 60, 0, 3600);

  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const cases = lines.map((line, i) => {
    try {
      return toCase(JSON.parse(line), i);
    } catch {
      // A line that is not JSON is sent as it is: a body the server must refuse.
      return {
        id: i,
        name: 'raw-line',
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        body: line,
        auth: 'none',
      } satisfies FuzzCase;
    }
  });
  const before = await healthy(base);
  if (before !== 'ok') throw new Error(`${base}/healthz before the replay: ${before}`);
  const database = databaseUrl ? openDatabase(databaseUrl) : undefined;
  const runningBefore = database ? (await database.prisma.run.findMany({ where: { status: 'RUNNING' }, select: { id: true } })).map((r) => r.id) : [];

  const started: string[] = [];
  const t0 = performance.now();
  const summary = await replay(base, cases, {
    adminKey: key,
    concurrency,
    onCase: (_c, reply) => {
      if (reply instanceof Error) return;
      const id = (JSON.parse(reply.body || 'null') as { data?: { startTraining?: { id?: string } } } | null)?.data?.startTraining?.id;
      if (id) started.push(id);
    },
  });
  const seconds = (performance.now() - t0) / 1000;

  for (const id of started) await graphql(base, key, 'mutation($id: ID!) { cancelTraining(id: $id) { state } }', { id });
  const after = await healthy(base);
  const sample: { data?: unknown; errors?: unknown[] } = await graphql<{ samples: { id: string }[] }>(
    base,
    undefined,
    '{ samples(count: 1, seed: 1) { id } }',
  ).catch((e: unknown) => ({ errors: [String(e)] }));

  console.log(
    `replayed ${summary.cases} cases from ${file} against ${base} in ${seconds.toFixed(1)} s (${concurrency} at a time${key ? ', admin key for "admin" cases' : ', no key'})`,
  );
  console.log('replies by error code (OK: data without errors):');
  for (const [code, n] of Object.entries(summary.byCode).sort((a, b) => b[1] - a[1])) console.log(`  ${code.padEnd(28)}${String(n).padStart(7)}`);
  console.log(
    `replies by HTTP status: ${Object.entries(summary.byStatus)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
  );
  console.log(`unacceptable replies: ${summary.failures.length}`);
  for (const f of summary.failures.slice(0, 20)) console.log(`  case ${f.id} (${f.name}), HTTP ${f.status}: ${f.problems.join('; ')}`);
  console.log(`transport errors: ${summary.transportErrors.length}`);
  for (const t of summary.transportErrors.slice(0, 20)) console.log(`  case ${t.id} (${t.name}): ${t.error}`);
  console.log(`training jobs the corpus started (cancelled): ${started.length}`);
  console.log(`server afterwards: /healthz ${after}; samples(count: 1) ${sample.data ? 'ok' : `failed: ${JSON.stringify(sample.errors).slice(0, 200)}`}`);

  let violations = 0;
  if (database) {
    const until = performance.now() + settleSeconds * 1000;
    let report = await checkInvariants(database.prisma, runningBefore);
    while (Object.keys(report.violations).length > 0 && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      report = await checkInvariants(database.prisma, runningBefore);
    }
    violations = Object.keys(report.violations).length;
    console.log(
      `database: ${report.counts.runs} runs, ${report.counts.samples} samples, ${report.counts.trainingJobs} training jobs, ${report.counts.evaluations} evaluations; ${violations === 0 ? 'no half-written rows' : 'VIOLATIONS:'}`,
    );
    for (const [what, ids] of Object.entries(report.violations)) console.log(`  ${what}: ${ids.length} (${ids.slice(0, 5).join(', ')})`);
    await database.close();
  }
  const ok = summary.failures.length === 0 && summary.transportErrors.length === 0 && after === 'ok' && sample.data !== undefined && violations === 0;
  console.log(ok ? 'PASS' : 'FAIL');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
