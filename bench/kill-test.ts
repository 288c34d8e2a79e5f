/**
 * kill -9 of the real ganql process (src/main.ts through tsx, as `npm run dev` runs it) in the middle of work, then a restart on the
 * same database, and checks that nothing was lost or left half-done.
 *
 *   npx tsx bench/kill-test.ts [--mode writes|training|both] [--clients 32] [--kill-after-replies 40] [--rounds 3]
 *       [--epochs 4] [--database-url postgresql://...]
 *
 * writes:   many clients send samples / interpolate / latentArithmetic (each stores samples in a run);
 *           the server is killed once --kill-after-replies replies have come back, mid-burst; --rounds
 *           times over on the same database.
 * training: a tiny MLP job (--epochs, 512 images, batch 32) is killed in the middle of its second epoch.
 * After the restart: every run a client got an id for exists and SUCCEEDED with every sample it
 * returned; no run is RUNNING; every SUCCEEDED sample run stores exactly the samples its result lists;
 * no sample, job or evaluation without its run (bench/lib/db-invariants.ts); the training job is
 * resumed or INTERRUPTED (never left RUNNING by the dead process) and, resumed, finishes with every
 * epoch once and a servable model. A temporary SQLite file by default; --database-url runs on that
 * (scratch!) PostgreSQL database instead. Exit code 1 on any violation.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrng } from '../src/data/prng';
import { openDatabase } from '../src/db/database';
import { numberArg, stringArg } from './lib/cli-args';
import { checkInvariants } from './lib/db-invariants';
import { createAdminKey, gqlData, gqlRequest, killHard, startGanql, stopGently, type GanqlProcess } from '../test/helpers/ganql-process';

const ROOT = path.resolve(__dirname, '..');
const LATENT = 100;
const REPLICA_TIMEOUT_MS = 2000;

/** The invariants, polled until they hold or a dead replica's timeout has surely passed (PostgreSQL). */
async function settledInvariants(prisma: Parameters<typeof checkInvariants>[0]): Promise<Awaited<ReturnType<typeof checkInvariants>>> {
  const until = performance.now() + 3 * REPLICA_TIMEOUT_MS + 5000;
  for (;;) {
    const report = await checkInvariants(prisma);
    if (Object.keys(report.violations).length === 0 || performance.now() > until) return report;
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Setup {
  dir: string;
  databaseUrl: string;
  env: Record<string, string>;
}

function setup(): Setup {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-kill-'));
  // Jobs write their versions into the models folder: a temporary copy keeps models/ clean.
  cpSync(path.join(ROOT, 'models', 'dcgan-mnist'), path.join(dir, 'models', 'dcgan-mnist'), { recursive: true });
  const databaseUrl = stringArg('database-url', '') || `file:${path.join(dir, 'ganql.db')}`;
  return {
    dir,
    databaseUrl,
    env: {
      DATABASE_URL: databaseUrl,
      GANQL_MODELS_DIR: path.join(dir, 'models'),
      GANQL_SCORERS_DIR: path.join(ROOT, 'models', 'scorers'),
      GANQL_TRAINING_DIR: path.join(dir, 'training'),
      GANQL_ANONYMOUS_SCOPES: 'sample',
      // On PostgreSQL a killed process is a dead replica: its runs are closed (and its jobs taken
      // over) once its heartbeat is this old. Short here, so the check need not wait 30 s.
      GANQL_REPLICA_HEARTBEAT_MS: '500',
      GANQL_REPLICA_TIMEOUT_MS: String(REPLICA_TIMEOUT_MS),
    },
  };
}

interface Outcome {
  lines: string[];
  violations: string[];
}

const QUERIES = {
  samples: 'query($n: Int!, $s: Int!) { samples(count: $n, seed: $s) { id runId } }',
  interpolate: 'query($a: LatentRefInput!, $b: LatentRefInput!, $k: Int!) { interpolate(from: $a, to: $b, steps: $k) { runId samples { id } } }',
  arithmetic:
    'query($t: [ConceptTermInput!]!) { latentArithmetic(terms: $t, neighbours: 2, seed: 1) { runId result { id } neighbours { id } concepts { mean { id } } } }',
};

interface Acknowledged {
  runId: string;
  sampleIds: string[];
}

/** Writes from `clients` loops until the server dies; resolves with what was acknowledged. */
async function burst(
  p: GanqlProcess,
  key: string,
  clients: number,
  killAfter: number,
  seed: number,
): Promise<{ acked: Acknowledged[]; failedInFlight: number; killedAt: number }> {
  const prng = createPrng(seed);
  const latent = () => Array.from({ length: LATENT }, () => prng.nextNormal());
  const acked: Acknowledged[] = [];
  let dead = false;
  let failedInFlight = 0;
  let killedAt = 0;
  let killing: Promise<void> | undefined;
  const client = async (c: number) => {
    for (let i = 0; !dead; i++) {
      const pickOp = (c + i) % 3;
      try {
        if (pickOp === 0) {
          const d = await gqlData<{ samples: { id: string; runId: string }[] }>(p.url, key, QUERIES.samples, {
            n: 1 + prng.nextInt(8),
            s: prng.nextInt(1 << 30),
          });
          acked.push({ runId: d.samples[0].runId, sampleIds: d.samples.map((s) => s.id) });
        } else if (pickOp === 1) {
          const d = await gqlData<{ interpolate: { runId: string; samples: { id: string }[] } }>(p.url, key, QUERIES.interpolate, {
            a: { latent: latent() },
            b: { latent: latent() },
            k: 4 + prng.nextInt(5),
          });
          acked.push({ runId: d.interpolate.runId, sampleIds: d.interpolate.samples.map((s) => s.id) });
        } else {
          const t = [
            { coefficient: 1, exemplars: [{ latent: latent() }, { latent: latent() }] },
            { coefficient: -1, exemplars: [{ latent: latent() }] },
          ];
          const d = await gqlData<{
            latentArithmetic: { runId: string; result: { id: string }; neighbours: { id: string }[]; concepts: { mean: { id: string } }[] };
          }>(p.url, key, QUERIES.arithmetic, { t });
          const a = d.latentArithmetic;
          acked.push({ runId: a.runId, sampleIds: [a.result.id, ...a.neighbours.map((s) => s.id), ...a.concepts.map((x) => x.mean.id)] });
        }
      } catch (error) {
        // Once the process is gone every request in flight fails: expected. Before that, a failure is not.
        if (!dead) throw error;
        failedInFlight++;
        return;
      }
      if (acked.length >= killAfter && !killing) {
        killedAt = acked.length;
        killing = killHard(p).then(() => {
          dead = true;
        });
      }
    }
  };
  await Promise.all(
    Array.from({ length: clients }, (_, c) =>
      client(c).catch((e: unknown) => {
        if (!dead && !killing) throw e;
        failedInFlight++;
      }),
    ),
  );
  await killing;
  return { acked, failedInFlight, killedAt };
}

async function writesMode(clients: number, killAfter: number, rounds: number): Promise<Outcome> {
  const s = setup();
  const lines: string[] = [];
  const violations: string[] = [];
  try {
    const acked: Acknowledged[] = [];
    let key = '';
    let closedInAll = 0;
    for (let round = 1; round <= rounds; round++) {
      // Each start after the first closes what the previous process left RUNNING.
      const p = await startGanql(s.env);
      const closed = /"closed runs left RUNNING by a previous process","interrupted":(\d+)/.exec(p.log());
      closedInAll += closed ? Number(closed[1]) : 0;
      key ||= createAdminKey(s.databaseUrl, 'kill-test');
      const t0 = performance.now();
      const b = await burst(p, key, clients, killAfter, round);
      acked.push(...b.acked);
      lines.push(
        `writes round ${round}: ${clients} clients; kill -9 after ${b.killedAt} acknowledged replies (${((performance.now() - t0) / 1000).toFixed(1)} s into the burst); ${b.acked.length} acknowledged, ${b.failedInFlight} requests cut off in flight`,
      );
    }
    const second = await startGanql(s.env);
    const closed = /"closed runs left RUNNING by a previous process","interrupted":(\d+)/.exec(second.log());
    closedInAll += closed ? Number(closed[1]) : 0;
    lines.push(
      `restarts: ${closedInAll} runs left RUNNING by the killed processes were closed INTERRUPTED at start (on PostgreSQL they are closed after the replica timeout instead)`,
    );
    const db = openDatabase(s.databaseUrl);
    try {
      const runIds = [...new Set(acked.map((a) => a.runId))];
      const runs = await db.prisma.run.findMany({ where: { id: { in: runIds } }, select: { id: true, status: true } });
      const status = new Map(runs.map((r) => [r.id, r.status]));
      const lost = runIds.filter((id) => !status.has(id));
      const notSucceeded = runIds.filter((id) => status.has(id) && status.get(id) !== 'SUCCEEDED');
      const sampleIds = [...new Set(acked.flatMap((a) => a.sampleIds))];
      const found = new Set((await db.prisma.sample.findMany({ where: { id: { in: sampleIds } }, select: { id: true } })).map((x) => x.id));
      const missing = sampleIds.filter((id) => !found.has(id));
      lines.push(
        `acknowledged: ${runIds.length} runs (${runIds.length - lost.length} found, ${runIds.length - lost.length - notSucceeded.length} SUCCEEDED), ${sampleIds.length} samples (${sampleIds.length - missing.length} found)`,
      );
      if (lost.length) violations.push(`acknowledged runs missing after the restart: ${lost.slice(0, 5).join(', ')} (${lost.length})`);
      if (notSucceeded.length)
        violations.push(
          `acknowledged runs not SUCCEEDED: ${notSucceeded
            .slice(0, 5)
            .map((id) => `${id} ${status.get(id)}`)
            .join(', ')} (${notSucceeded.length})`,
        );
      if (missing.length) violations.push(`acknowledged samples missing: ${missing.slice(0, 5).join(', ')} (${missing.length})`);
      const report = await settledInvariants(db.prisma);
      const byStatus = await db.prisma.run.groupBy({ by: ['status'], _count: { _all: true } });
      lines.push(`database: ${report.counts.runs} runs (${byStatus.map((g) => `${g.status} ${g._count._all}`).join(', ')}), ${report.counts.samples} samples`);
      for (const [what, ids] of Object.entries(report.violations)) violations.push(`${what}: ${ids.slice(0, 5).join(', ')} (${ids.length})`);
      // The work acknowledged before the kill is usable: a sample of it regenerates.
      const again = await gqlRequest<{ sample: { id: string } }>(second.url, key, 'query($id: ID!) { sample(id: $id) { id } }', {
        id: sampleIds[sampleIds.length - 1],
      });
      if (again.data?.sample.id !== sampleIds[sampleIds.length - 1])
        violations.push(`sample(id) of an acknowledged sample after the restart: ${JSON.stringify(again.errors)}`);
    } finally {
      await db.close();
    }
    const ended = await stopGently(second);
    if (ended !== 'exit code 0') violations.push(`SIGTERM after the check: ${ended}; last log lines:\n${second.log().trim().split('\n').slice(-3).join('\n')}`);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
  return { lines, violations };
}

interface JobView {
  state: string;
  epochsCompleted: number;
  progress: number;
  modelId: string | null;
  error: string | null;
  epochs: { epoch: number }[];
  run: { status: string };
}
const JOB = 'query($id: ID!) { trainingJob(id: $id) { state epochsCompleted progress modelId error epochs { epoch } run { status } } }';

async function waitJob(p: GanqlProcess, key: string, id: string, test: (j: JobView) => boolean, timeoutMs: number, pollMs = 100): Promise<JobView> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const j = (await gqlData<{ trainingJob: JobView }>(p.url, key, JOB, { id })).trainingJob;
    if (test(j)) return j;
    if (performance.now() > until) throw new Error(`job ${id}: not there within ${timeoutMs / 1000} s: ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function trainingMode(epochs: number): Promise<Outcome> {
  const s = setup();
  const lines: string[] = [];
  const violations: string[] = [];
  try {
    const first = await startGanql(s.env);
    const key = createAdminKey(s.databaseUrl, 'kill-test');
    const input = { architecture: 'MLP', epochs, limit: 512, batchSize: 32, seed: 3, name: 'kill-test-mlp' };
    const { startTraining: job } = await gqlData<{ startTraining: { id: string } }>(
      first.url,
      key,
      'mutation($i: StartTrainingInput!) { startTraining(input: $i) { id } }',
      { i: input },
    );
    // The middle of epoch 2: progress is steps done over all steps.
    const mid = await waitJob(first, key, job.id, (j) => j.progress >= 1.5 / epochs || (j.state !== 'RUNNING' && j.state !== 'QUEUED'), 300_000, 50);
    if (mid.state !== 'RUNNING') throw new Error(`expected the job RUNNING mid-epoch, got ${JSON.stringify(mid)}`);
    await killHard(first);
    lines.push(
      `training: MLP job ${job.id}, ${epochs} epochs of 16 steps; kill -9 at progress ${mid.progress.toFixed(3)} (epoch ${mid.epochsCompleted + 1} under way, ${mid.epochsCompleted} completed)`,
    );

    const db = openDatabase(s.databaseUrl);
    try {
      const dead = await db.prisma.trainingJob.findUnique({ where: { id: job.id }, include: { run: true } });
      lines.push(`in the database after the kill: job ${dead?.state}, run ${dead?.run.status}, ${dead?.epochsCompleted} epochs`);
      const second = await startGanql(s.env);
      const atStart = (await gqlData<{ trainingJob: JobView }>(second.url, key, JOB, { id: job.id })).trainingJob;
      lines.push(
        `restart: ${second.log().includes('"training job resumed"') ? 'resumed at start' : "not resumed at start (a dead replica's job is taken over after its heartbeat timeout)"}; job ${atStart.state} (run ${atStart.run.status}) at ${atStart.epochsCompleted} epochs`,
      );
      if (!['QUEUED', 'RUNNING', 'SUCCEEDED', 'INTERRUPTED'].includes(atStart.state)) violations.push(`job after the restart: ${atStart.state}`);
      if (atStart.epochsCompleted < mid.epochsCompleted)
        violations.push(`epochs lost: ${mid.epochsCompleted} before the kill, ${atStart.epochsCompleted} after`);
      if (atStart.state !== 'INTERRUPTED') {
        const t0 = performance.now();
        const done = await waitJob(second, key, job.id, (j) => j.state !== 'RUNNING' && j.state !== 'QUEUED', 600_000, 250);
        // Resumed from its checkpoint by the new process: at start, or taken from the queue with resume on.
        const resumedHere = second
          .log()
          .split('\n')
          .some((l) => l.includes(job.id) && (l.includes('"training job resumed"') || (l.includes('"training job started"') && l.includes('"resume":true'))));
        if (!resumedHere) violations.push('the job ended without the new process resuming it from its checkpoint');
        lines.push(
          `finished after the restart: ${done.state} in ${((performance.now() - t0) / 1000).toFixed(1)} s, epochs ${done.epochs.map((e) => e.epoch).join(',')}, model ${done.modelId}`,
        );
        if (done.state !== 'SUCCEEDED' || done.run.status !== 'SUCCEEDED')
          violations.push(`resumed job ended ${done.state} (run ${done.run.status}): ${done.error}`);
        const expected = Array.from({ length: epochs }, (_, i) => i + 1).join(',');
        if (done.epochs.map((e) => e.epoch).join(',') !== expected)
          violations.push(`epochs ${done.epochs.map((e) => e.epoch).join(',')}, expected ${expected}`);
        if (done.modelId) {
          const made = await gqlRequest<{ samples: { modelId: string }[] }>(
            second.url,
            key,
            'query($m: ID!) { samples(modelId: $m, count: 2, seed: 1) { modelId } }',
            { m: done.modelId },
          );
          if (made.data?.samples.length !== 2) violations.push(`samples of the new model: ${JSON.stringify(made.errors)}`);
        }
      }
      const report = await settledInvariants(db.prisma);
      lines.push(`database: ${report.counts.runs} runs, ${report.counts.trainingJobs} training jobs`);
      for (const [what, ids] of Object.entries(report.violations)) violations.push(`${what}: ${ids.slice(0, 5).join(', ')} (${ids.length})`);
      const ended = await stopGently(second);
      if (ended !== 'exit code 0')
        violations.push(`SIGTERM after the check: ${ended}; last log lines:\n${second.log().trim().split('\n').slice(-3).join('\n')}`);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
  return { lines, violations };
}

async function main(): Promise<number> {
  const mode = stringArg('mode', 'both');
  if (!['writes', 'training', 'both'].includes(mode)) throw new Error(`--mode: expected writes, training or both, got ${JSON.stringify(mode)}`);
  const clients = numberArg('clients', 32, 1, 1024);
  const killAfter = numberArg('kill-after-replies', 40, 1, 1_000_000);
  const epochs = numberArg('epochs', 4, 2, 100);
  const rounds = numberArg('rounds', 3, 1, 100);
  let failed = false;
  for (const m of mode === 'both' ? ['writes', 'training'] : [mode]) {
    const outcome = m === 'writes' ? await writesMode(clients, killAfter, rounds) : await trainingMode(epochs);
    for (const line of outcome.lines) console.log(line);
    for (const v of outcome.violations) console.log(`VIOLATION ${v}`);
    console.log(`${m}: ${outcome.violations.length === 0 ? 'PASS' : 'FAIL'}\n`);
    failed ||= outcome.violations.length > 0;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
