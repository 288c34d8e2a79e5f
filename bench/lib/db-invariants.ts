/**
 * What a ganql database must never hold, whatever was sent or killed: checked by the fuzz test, the
 * corpus replay and the kill -9 scripts. Plain SQL with quoted names, so it reads SQLite and PostgreSQL alike.
 */
import type { Prisma } from '../../src/db/database';

export interface InvariantReport {
  /** Check -> offending rows (ids), empty when it holds. */
  violations: Record<string, string[]>;
  counts: { runs: number; samples: number; trainingJobs: number; evaluations: number };
}

const CHECKS: Record<string, string> = {
  'run left RUNNING': `SELECT r."id" AS id FROM "Run" r WHERE r."status" = 'RUNNING'`,
  'sample of a run that did not succeed': `SELECT s."id" AS id FROM "Sample" s JOIN "Run" r ON r."id" = s."runId" WHERE r."status" <> 'SUCCEEDED'`,
  'sample without its run': `SELECT s."id" AS id FROM "Sample" s LEFT JOIN "Run" r ON r."id" = s."runId" WHERE r."id" IS NULL`,
  'training job without its run': `SELECT j."id" AS id FROM "TrainingJob" j LEFT JOIN "Run" r ON r."id" = j."id" WHERE r."id" IS NULL`,
  'training job RUNNING or QUEUED': `SELECT j."id" AS id FROM "TrainingJob" j WHERE j."state" IN ('RUNNING', 'QUEUED')`,
  'training job whose run disagrees': `SELECT j."id" AS id FROM "TrainingJob" j JOIN "Run" r ON r."id" = j."id" WHERE r."status" <> j."state" AND NOT (j."state" = 'QUEUED' AND r."status" = 'RUNNING')`,
  'evaluation of a run that did not succeed': `SELECT e."id" AS id FROM "Evaluation" e JOIN "Run" r ON r."id" = e."id" WHERE r."status" <> 'SUCCEEDED'`,
  'evaluation without its run': `SELECT e."id" AS id FROM "Evaluation" e LEFT JOIN "Run" r ON r."id" = e."id" WHERE r."id" IS NULL`,
  'finished run without finishedAt': `SELECT r."id" AS id FROM "Run" r WHERE r."status" <> 'RUNNING' AND r."finishedAt" IS NULL`,
  'failed run without an error code': `SELECT r."id" AS id FROM "Run" r WHERE r."status" = 'FAILED' AND (r."errorCode" IS NULL OR r."errorMessage" IS NULL)`,
};

/** SAMPLE, INTERPOLATE and ARITHMETIC runs that SUCCEEDED: their result lists the samples they stored. */
const SAMPLE_RESULTS = `SELECT r."id" AS id, r."result" AS result FROM "Run" r WHERE r."status" = 'SUCCEEDED' AND r."kind" IN ('SAMPLE', 'INTERPOLATE', 'ARITHMETIC')`;

async function count(prisma: Prisma, table: string): Promise<number> {
  const rows = await prisma.$queryRawUnsafe<{ n: bigint | number }[]>(`SELECT COUNT(*) AS n FROM "${table}"`);
  return Number(rows[0].n);
}

/**
 * Runs every check; `allowRunning` lists runs that may legitimately still be RUNNING (a job the
 * caller knows is live), all others must have ended.
 */
export async function checkInvariants(prisma: Prisma, allowRunning: readonly string[] = []): Promise<InvariantReport> {
  const violations: Record<string, string[]> = {};
  for (const [name, sql] of Object.entries(CHECKS)) {
    const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(sql);
    const ids = rows.map((r) => r.id).filter((id) => !(name.includes('RUNNING') || name.includes('disagrees') ? allowRunning.includes(id) : false));
    if (ids.length > 0) violations[name] = ids;
  }
  const bad: string[] = [];
  const stored = new Map<string, string>();
  for (const s of await prisma.$queryRawUnsafe<{ id: string; runId: string }[]>(`SELECT s."id" AS id, s."runId" AS "runId" FROM "Sample" s`))
    stored.set(s.id, s.runId);
  const perRun = new Map<string, number>();
  for (const runId of stored.values()) perRun.set(runId, (perRun.get(runId) ?? 0) + 1);
  for (const row of await prisma.$queryRawUnsafe<{ id: string; result: string | null }[]>(SAMPLE_RESULTS)) {
    const ids = (JSON.parse(row.result ?? '{}') as { sampleIds?: string[] }).sampleIds ?? [];
    const missing = ids.filter((id) => !stored.has(id));
    // Every listed sample is stored; a run stores no sample it does not list.
    if (missing.length > 0 || (perRun.get(row.id) ?? 0) > ids.length)
      bad.push(`${row.id} (result lists ${ids.length}, ${missing.length} missing, ${perRun.get(row.id) ?? 0} stored)`);
  }
  if (bad.length > 0) violations['sample run whose stored samples do not match its result'] = bad;
  return {
    violations,
    counts: {
      runs: await count(prisma, 'Run'),
      samples: await count(prisma, 'Sample'),
      trainingJobs: await count(prisma, 'TrainingJob'),
      evaluations: await count(prisma, 'Evaluation'),
    },
  };
}
