import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, startTestServer, type TestServer } from '../helpers/server';

const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, 'dcgan-mnist', 'manifest.json'), 'utf8')) as Record<string, unknown> & {
  name: string;
  version: string;
};
const shipped = `${manifest.name}@${manifest.version}`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-default-alias-'));

/** A models folder holding the shipped DCGAN (unless `shippedToo` is false) and copies of it under the given ids' names. */
function modelsFolder(name: string, copies: string[], shippedToo = true): string {
  const folder = path.join(dir, name);
  if (shippedToo) cpSync(path.join(MODELS_DIR, 'dcgan-mnist'), path.join(folder, 'dcgan-mnist'), { recursive: true });
  for (const copy of copies) {
    cpSync(path.join(MODELS_DIR, 'dcgan-mnist', 'generator'), path.join(folder, copy, 'generator'), { recursive: true });
    cpSync(path.join(MODELS_DIR, 'dcgan-mnist', 'discriminator'), path.join(folder, copy, 'discriminator'), { recursive: true });
    writeFileSync(path.join(folder, copy, 'manifest.json'), JSON.stringify({ ...manifest, name: copy, version: '1' }));
  }
  return folder;
}

/** A server on `database` serving `modelsDir`, in-process inference (nothing to spread over workers here). */
function start(modelsDir: string, database: string, env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer(
    { modelsDir, scorersDir: path.join(MODELS_DIR, 'scorers') },
    { DATABASE_URL: `file:${path.join(dir, database)}`, GANQL_INFERENCE_WORKERS: '0', ...env },
  );
}

async function defaultOf(server: TestServer): Promise<{ modelId: string; setBy: string } | undefined> {
  const body = await server.gql<{ modelAliases: { alias: string; modelId: string; setBy: string }[] }>('{ modelAliases { alias modelId setBy } }');
  expect(body.errors).toBeUndefined();
  const found = body.data!.modelAliases.find((a) => a.alias === 'default');
  return found && { modelId: found.modelId, setBy: found.setBy };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the "default" alias across restarts', () => {
  it('follows its seed (the shipped DCGAN, then GANQL_DEFAULT_MODEL) until setModelAlias sets it; then the seed no longer moves it', async () => {
    const models = modelsFolder('models', ['aaa-copy']);
    let server = await start(models, 'one.db');
    // aaa-copy@1 sorts first, and is not the default.
    expect(await defaultOf(server)).toEqual({ modelId: shipped, setBy: 'seed: the shipped DCGAN (dcgan-mnist)' });
    await server.stop();

    server = await start(models, 'one.db', { GANQL_DEFAULT_MODEL: 'aaa-copy@1' });
    expect(await defaultOf(server)).toEqual({ modelId: 'aaa-copy@1', setBy: 'seed: GANQL_DEFAULT_MODEL' });
    const unnamed = await server.gql<{ samples: { modelId: string }[] }>('{ samples(count: 1) { modelId } }');
    expect(unnamed.data!.samples[0].modelId).toBe('aaa-copy@1');
    const set = await server.gql(`mutation { setModelAlias(alias: "default", modelId: "${shipped}") { alias } }`);
    expect(set.errors).toBeUndefined();
    await server.stop();

    server = await start(models, 'one.db', { GANQL_DEFAULT_MODEL: 'aaa-copy@1' });
    expect(await defaultOf(server)).toEqual({ modelId: shipped, setBy: 'anonymous (loopback)' });
    const runs = await server.gql<{ runs: { edges: { node: { status: string; result: { modelId: string; previousModelId: string | null } } }[] } }>(
      '{ runs(first: 10, filter: { kind: SET_MODEL_ALIAS }) { edges { node { status result } } } }',
    );
    expect(runs.data!.runs.edges.map((e) => [e.node.result.previousModelId, e.node.result.modelId])).toEqual([
      ['aaa-copy@1', shipped],
      [shipped, 'aaa-copy@1'],
      [null, shipped],
    ]);
    await server.stop();
  });

  it('without GANQL_DEFAULT_MODEL or the shipped DCGAN: the only served model, and with several, none (an unnamed request says so)', async () => {
    let server = await start(modelsFolder('only', ['only-copy'], false), 'two.db');
    expect(await defaultOf(server)).toEqual({ modelId: 'only-copy@1', setBy: 'seed: the only served model with a generator' });
    await server.stop();

    server = await start(modelsFolder('several', ['first-copy', 'second-copy'], false), 'three.db');
    expect(await defaultOf(server)).toBeUndefined();
    const unnamed = await server.gql('{ samples(count: 1) { modelId } }');
    expect(unnamed.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message:
        'modelId: expected a model id or alias, got none, and no "default" alias is set to use instead (GANQL_DEFAULT_MODEL, or setModelAlias(alias: "default"))',
    });
    const named = await server.gql<{ samples: { modelId: string }[] }>('{ samples(count: 1, modelId: "second-copy@1") { modelId } }');
    expect(named.data!.samples[0].modelId).toBe('second-copy@1');
    await server.stop();
  });
});
