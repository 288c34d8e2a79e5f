import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyService } from '../../src/auth/api-key.service';
import { MODELS_DIR, startTestServer, type GqlBody, type TestServer } from '../helpers/server';

/** The shipped DCGAN's id, from its manifest: what `default` is seeded with. */
const shipped = (() => {
  const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, 'dcgan-mnist', 'manifest.json'), 'utf8')) as { name: string; version: string };
  return `${manifest.name}@${manifest.version}`;
})();

let server: TestServer;
let admin: string;
let sampler: string;
let adminKeyId: string;

/** POSTs a GraphQL request with an API key; returns the parsed body. */
async function gql<T = Record<string, unknown>>(key: string, query: string, variables?: Record<string, unknown>): Promise<GqlBody<T>> {
  const res = await server.http.post('/graphql').set('authorization', `Bearer ${key}`).send({ query, variables });
  if (res.status !== 200 && res.status !== 400) throw new Error(`unexpected HTTP ${res.status}: ${res.text}`);
  return res.body as GqlBody<T>;
}

async function data<T>(key: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const body = await gql<T>(key, query, variables);
  expect(body.errors).toBeUndefined();
  return body.data!;
}

interface RunOut {
  id: string;
  kind: string;
  status: string;
  modelId: string | null;
  parameters: Record<string, unknown>;
  result: Record<string, unknown> | null;
  errorCode: string | null;
  errorMessage: string | null;
  sampleIds: string[];
}
const RUN = 'id kind status modelId parameters result errorCode errorMessage sampleIds';

async function runsOf(filter: Record<string, unknown>): Promise<RunOut[]> {
  const out = await data<{ runs: { edges: { node: RunOut }[] } }>(
    admin,
    `query($f: RunFilterInput) { runs(first: 50, filter: $f) { edges { node { ${RUN} } } } }`,
    {
      f: filter,
    },
  );
  return out.runs.edges.map((e) => e.node);
}

/** An unnamed query: which model does it serve? */
async function unnamedSampleModel(): Promise<string> {
  return (await data<{ samples: { modelId: string }[] }>(sampler, '{ samples(count: 1, seed: 3) { modelId } }')).samples[0].modelId;
}

async function waitForJob(id: string): Promise<{ state: string; modelId: string | null; error: string | null }> {
  for (;;) {
    const { trainingJob } = await data<{ trainingJob: { state: string; modelId: string | null; error: string | null } }>(
      admin,
      `{ trainingJob(id: "${id}") { state modelId error } }`,
    );
    if (!['QUEUED', 'RUNNING'].includes(trainingJob.state)) return trainingJob;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  // Anonymous localhost may only sample: the admin mutations need an admin key.
  server = await startTestServer({}, { GANQL_ANONYMOUS_SCOPES: 'sample' }, { tempModels: true });
  const keys = new ApiKeyService(server.ganql.database.prisma);
  const made = await keys.create('operator', 'admin', 0);
  admin = made.token;
  adminKeyId = made.record.id;
  sampler = (await keys.create('dashboard', 'sample', 0)).token;
});

afterAll(async () => {
  await server?.stop();
});

describe('model aliases, archive and model cards over HTTP', () => {
  let fresh: string;
  let jobId: string;

  it('seeds "default" with the shipped DCGAN, recorded as a SET_MODEL_ALIAS run', async () => {
    const out = await data<{ model: { id: string; aliases: string[] }; modelAliases: { alias: string; modelId: string; setBy: string }[] }>(
      admin,
      '{ model(id: "default") { id aliases } modelAliases { alias modelId setBy } }',
    );
    expect(out.model).toEqual({ id: shipped, aliases: ['default'] });
    expect(out.modelAliases).toEqual([{ alias: 'default', modelId: shipped, setBy: 'seed: the shipped DCGAN (dcgan-mnist)' }]);
    const [seeded] = await runsOf({ kind: 'SET_MODEL_ALIAS' });
    expect(seeded).toMatchObject({
      status: 'SUCCEEDED',
      modelId: shipped,
      parameters: { alias: 'default', modelId: shipped },
      result: { previousModelId: null },
    });
    expect(await unnamedSampleModel()).toBe(shipped);
  });

  it('a freshly trained version whose id sorts first does not become the default; its card names its parent and job', async () => {
    const started = await data<{ startTraining: { id: string } }>(admin, 'mutation($input: StartTrainingInput!) { startTraining(input: $input) { id } }', {
      input: { name: 'a-fresh', fineTuneFrom: 'default', epochs: 1, batchSize: 32, limit: 32, seed: 5 },
    });
    jobId = started.startTraining.id;
    const job = await waitForJob(jobId);
    expect(job).toMatchObject({ state: 'SUCCEEDED', error: null });
    fresh = job.modelId!;
    expect(fresh.startsWith('a-fresh@')).toBe(true);
    expect([fresh, shipped].sort()[0]).toBe(fresh);

    expect(await unnamedSampleModel()).toBe(shipped);
    const card = await data<{
      model: { id: string; archived: boolean; aliases: string[]; provenance: Record<string, unknown>; latestEvaluation: null };
    }>(
      admin,
      `{ model(id: "${fresh}") { id archived aliases latestEvaluation { seed }
         provenance { command seed epochs batchSize dataset examples trainedAt backend parentModelId trainingJobId } } }`,
    );
    expect(card.model).toMatchObject({ id: fresh, archived: false, aliases: [], latestEvaluation: null });
    expect(card.model.provenance).toMatchObject({
      seed: 5,
      epochs: 1,
      batchSize: 32,
      dataset: 'mnist',
      examples: 32,
      parentModelId: shipped,
      trainingJobId: jobId,
    });
    expect(card.model.provenance.command).toContain(`startTraining (job ${jobId})`);
    // The parent is in the version's own manifest too, for copies of its folder that leave the database behind.
    const row = await server.ganql.database.prisma.model.findUnique({ where: { id: fresh } });
    const manifest = JSON.parse(readFileSync(path.join(server.ganql.config.modelsDir, row!.path, 'manifest.json'), 'utf8')) as {
      training: { fineTuneFrom?: string };
    };
    expect(manifest.training.fineTuneFrom).toBe(shipped);
    expect(Number.isNaN(Date.parse(card.model.provenance.trainedAt as string))).toBe(false);
    // The shipped version trained from scratch with the command line its manifest records.
    const shippedCard = await data<{ model: { provenance: { parentModelId: string | null; trainingJobId: string | null; command: string; epochs: number } } }>(
      sampler,
      '{ model(id: "default") { provenance { parentModelId trainingJobId command epochs } } }',
    );
    expect(shippedCard.model.provenance).toMatchObject({ parentModelId: null, trainingJobId: null, epochs: 100 });
    expect(shippedCard.model.provenance.command).toContain('npm run train');
  });

  it('refuses alias changes without the admin scope, with a malformed name, or for an unknown model, each a FAILED run', async () => {
    const forbidden = await gql(sampler, `mutation { setModelAlias(alias: "default", modelId: "${fresh}") { alias } }`);
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const malformed = await gql(admin, `mutation { setModelAlias(alias: "dcgan@2", modelId: "${fresh}") { alias } }`);
    expect(malformed.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: `alias: expected 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit (no '@': model ids hold one), got "dcgan@2"`,
    });
    const unknown = await gql(admin, 'mutation { setModelAlias(alias: "prod", modelId: "nope@1") { alias } }');
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const unknownAlias = await gql(admin, 'mutation { setModelAlias(alias: "prod", modelId: "staging") { alias } }');
    expect(unknownAlias.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(unknownAlias.errors?.[0].message).toContain('model alias "staging" not found');

    const failed = (await runsOf({ kind: 'SET_MODEL_ALIAS', status: 'FAILED' })).map((r) => r.errorCode);
    expect(failed).toEqual(['NOT_FOUND', 'NOT_FOUND', 'BAD_USER_INPUT']);
    expect(await unnamedSampleModel()).toBe(shipped);
  });

  it('switching "default" changes what an unnamed query serves, records who did it, and aliases resolve everywhere a model is chosen', async () => {
    const set = await data<{ setModelAlias: { alias: string; modelId: string; setBy: string } }>(
      admin,
      `mutation { setModelAlias(alias: "default", modelId: "${fresh}") { alias modelId setBy } }`,
    );
    expect(set.setModelAlias).toEqual({ alias: 'default', modelId: fresh, setBy: `key ${adminKeyId} (operator)` });
    expect(await unnamedSampleModel()).toBe(fresh);
    expect((await data<{ model: { id: string } }>(sampler, '{ model(id: "default") { id } }')).model.id).toBe(fresh);

    const [switched] = await runsOf({ kind: 'SET_MODEL_ALIAS', status: 'SUCCEEDED' });
    expect(switched).toMatchObject({
      modelId: fresh,
      parameters: { alias: 'default', modelId: fresh, setBy: `key ${adminKeyId} (operator)` },
      result: { alias: 'default', modelId: fresh, previousModelId: shipped },
    });
    const audit = await server.ganql.database.prisma.modelAlias.findUnique({ where: { name: 'default' } });
    expect(audit).toMatchObject({ modelId: fresh, setBy: `key ${adminKeyId} (operator)` });

    // An alias given as the target takes its current target (a copy, not a link).
    await data(admin, 'mutation { setModelAlias(alias: "prod", modelId: "default") { alias } }');
    const named = await data<{ samples: { modelId: string }[]; models: { id: string; aliases: string[] }[] }>(
      sampler,
      '{ samples(modelId: "prod", count: 1) { modelId } models { id aliases } }',
    );
    expect(named.samples[0].modelId).toBe(fresh);
    expect(named.models.find((m) => m.id === fresh)!.aliases).toEqual(['default', 'prod']);
  });

  it('refuses to archive a version an alias names, and to delete "default"', async () => {
    const refused = await gql(admin, `mutation { archiveModel(id: "${fresh}") { id } }`);
    expect(refused.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0].message).toContain(`got ${fresh}, named by "default", "prod"`);
    const keepDefault = await gql(admin, 'mutation { deleteModelAlias(alias: "default") { alias } }');
    expect(keepDefault.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    await data(admin, `mutation { setModelAlias(alias: "default", modelId: "${shipped}") { alias } }`);
    const deleted = await data<{ deleteModelAlias: { alias: string; modelId: string } }>(
      admin,
      'mutation { deleteModelAlias(alias: "prod") { alias modelId } }',
    );
    expect(deleted.deleteModelAlias).toEqual({ alias: 'prod', modelId: fresh });
    expect((await gql(sampler, '{ samples(modelId: "prod", count: 1) { id } }')).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await runsOf({ kind: 'DELETE_MODEL_ALIAS' })).map((r) => [r.status, r.modelId])).toEqual([
      ['SUCCEEDED', fresh],
      ['FAILED', null],
    ]);
  });

  it('an archived version is NOT_FOUND for new work, unloaded, hidden from models, and its runs stay readable; unarchived, it serves the same bytes', async () => {
    const before = await data<{ samples: { id: string; runId: string; image: { dataUrl: string; url: string } }[] }>(
      sampler,
      `{ samples(modelId: "${fresh}", count: 2, seed: 11) { id runId image { dataUrl url } } }`,
    );
    const imageUrl = before.samples[0].image.url;
    const served = await server.http.get(imageUrl).set('authorization', `Bearer ${sampler}`);
    expect(served.status).toBe(200);
    const tensorsServing = (await data<{ serverInfo: { pool: { tensors: number } } }>(sampler, '{ serverInfo { pool { tensors } } }')).serverInfo.pool.tensors;

    const archived = await data<{ archiveModel: { id: string; archived: boolean; archivedAt: string; generatorLayers: unknown[] } }>(
      admin,
      `mutation { archiveModel(id: "${fresh}") { id archived archivedAt generatorLayers { name } } }`,
    );
    expect(archived.archiveModel).toMatchObject({ id: fresh, archived: true, generatorLayers: [] });

    // New work: refused with NOT_FOUND saying why, regenerating a stored sample included.
    const newWork = await gql(sampler, `{ samples(modelId: "${fresh}", count: 1) { id } }`);
    expect(newWork.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(newWork.errors?.[0].message).toContain(`model "${fresh}" is archived`);
    const regenerate = await gql(sampler, `{ sample(id: "${before.samples[0].id}") { id } }`);
    expect(regenerate.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // Its image URL too, though the server still holds the PNG it made a moment ago.
    const image = await server.http.get(imageUrl).set('authorization', `Bearer ${sampler}`);
    expect(image.status).toBe(404);
    expect((image.body as GqlBody<unknown>).errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const alias = await gql(admin, `mutation { setModelAlias(alias: "old", modelId: "${fresh}") { alias } }`);
    expect(alias.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const again = await gql(admin, `mutation { archiveModel(id: "${fresh}") { id } }`);
    expect(again.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    // Listing: hidden unless asked for; its card still answers.
    const listed = await data<{ models: { id: string }[]; all: { id: string; archived: boolean }[]; model: { archived: boolean } }>(
      sampler,
      `{ models { id } all: models(includeArchived: true) { id archived } model(id: "${fresh}") { archived } }`,
    );
    expect(listed.models.map((m) => m.id)).toEqual([shipped]);
    expect(listed.all).toEqual([
      { id: fresh, archived: true },
      { id: shipped, archived: false },
    ]);
    expect(listed.model.archived).toBe(true);

    // Its records stay: the SAMPLE run with its sample ids, and the ARCHIVE_MODEL run saying who.
    const runs = await runsOf({ modelId: fresh });
    const sampleRun = runs.find((r) => r.id === before.samples[0].runId)!;
    expect(sampleRun).toMatchObject({ kind: 'SAMPLE', status: 'SUCCEEDED', sampleIds: before.samples.map((s) => s.id) });
    // Newest first: the refused second archive, the archive, the one refused while aliases named it.
    expect(runs.filter((r) => r.kind === 'ARCHIVE_MODEL').map((r) => [r.status, r.errorCode])).toEqual([
      ['FAILED', 'BAD_USER_INPUT'],
      ['SUCCEEDED', null],
      ['FAILED', 'BAD_USER_INPUT'],
    ]);
    expect(runs.find((r) => r.kind === 'ARCHIVE_MODEL' && r.status === 'SUCCEEDED')!.parameters).toEqual({
      modelId: fresh,
      archivedBy: `key ${adminKeyId} (operator)`,
    });
    const card = await data<{ model: { runs: { totalCount: number } } }>(admin, `{ model(id: "${fresh}") { runs(first: 1) { totalCount } } }`);
    expect(card.model.runs.totalCount).toBe(runs.length);

    // Unloaded from the inference workers: fewer live tensors than while it was served.
    let tensors = tensorsServing;
    for (let i = 0; i < 50 && tensors >= tensorsServing; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      tensors = (await data<{ serverInfo: { pool: { tensors: number } } }>(sampler, '{ serverInfo { pool { tensors } } }')).serverInfo.pool.tensors;
    }
    expect(tensors).toBeLessThan(tensorsServing);

    const back = await data<{ unarchiveModel: { id: string; archived: boolean; archivedAt: null } }>(
      admin,
      `mutation { unarchiveModel(id: "${fresh}") { id archived archivedAt } }`,
    );
    expect(back.unarchiveModel).toEqual({ id: fresh, archived: false, archivedAt: null });
    const regenerated = await data<{ sample: { image: { dataUrl: string } } }>(sampler, `{ sample(id: "${before.samples[1].id}") { image { dataUrl } } }`);
    expect(regenerated.sample.image.dataUrl).toBe(before.samples[1].image.dataUrl);
    const imageBack = await server.http.get(imageUrl).set('authorization', `Bearer ${sampler}`);
    expect(imageBack.status).toBe(200);
    expect((imageBack.body as Buffer).equals(served.body as Buffer)).toBe(true);
    expect((await runsOf({ kind: 'UNARCHIVE_MODEL' })).map((r) => [r.status, r.modelId])).toEqual([['SUCCEEDED', fresh]]);
  });

  it("a model's card shows its newest evaluation", async () => {
    for (const seed of [1, 2]) {
      const { evaluate } = await data<{ evaluate: { id: string } }>(
        admin,
        `mutation { evaluate(modelId: "default", metrics: [INCEPTION_SCORE], samples: 100, splits: 1, seed: ${seed}) { id } }`,
      );
      let status = 'RUNNING';
      while (status === 'RUNNING') {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await data<{ run: { status: string } }>(admin, `{ run(id: "${evaluate.id}") { status } }`)).run.status;
      }
      expect(status).toBe('SUCCEEDED');
    }
    const out = await data<{
      model: { latestEvaluation: { seed: number; modelId: string; inceptionScore: { mean: number } } };
      evaluations: { seed: number; inceptionScore: { mean: number } }[];
    }>(
      admin,
      `{ model(id: "default") { latestEvaluation { seed modelId inceptionScore { mean } } } evaluations(modelId: "${shipped}", first: 5) { seed inceptionScore { mean } } }`,
    );
    expect(out.evaluations.map((e) => e.seed)).toEqual([2, 1]);
    expect(out.model.latestEvaluation).toEqual({ seed: 2, modelId: shipped, inceptionScore: out.evaluations[0].inceptionScore });
    // Records need the read scope.
    const refused = await gql(sampler, '{ model(id: "default") { id latestEvaluation { seed } } }');
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
