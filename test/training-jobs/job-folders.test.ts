import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCheckpoint, jobFolder, moveIntoModels, MODEL_NAME_PATTERN, versionFolderName, versionLabel } from '../../src/training-jobs/job-folders';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-job-folders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('job folders', () => {
  it('labels a version by its start minute and the random tail of the job id', () => {
    expect(versionLabel(new Date('2026-11-27T04:42:59.999Z'), '019abcde-1234-7abc-8def-0123456789ab')).toBe('2026-11-27T04-42-456789ab');
    expect(versionFolderName('dcgan-mnist', '2026-11-27T04-42-456789ab')).toBe('dcgan-mnist-2026-11-27T04-42-456789ab');
    expect(jobFolder('/data/training', 'abc')).toBe(path.join('/data/training', 'abc'));
  });

  it('accepts model names that are safe folder names only', () => {
    for (const ok of ['dcgan-mnist', 'a', 'My_model.v2', 'x'.repeat(64)]) expect(MODEL_NAME_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', '-x', '../up', 'a/b', 'x'.repeat(65), 'sp ace', 'é']) expect(MODEL_NAME_PATTERN.test(bad)).toBe(false);
  });

  it('finds a checkpoint by its state.json, also one a crash left mid-swap (.next, .old)', () => {
    for (const [name, folder] of [
      ['none', undefined],
      ['plain', 'checkpoint'],
      ['next', 'checkpoint.next'],
      ['old', 'checkpoint.old'],
      ['partial', 'checkpoint'],
    ] as const) {
      const job = path.join(dir, name);
      mkdirSync(job, { recursive: true });
      if (folder !== undefined) {
        mkdirSync(path.join(job, folder), { recursive: true });
        // A checkpoint folder without its state.json was cut short: not a checkpoint.
        if (name !== 'partial') writeFileSync(path.join(job, folder, 'state.json'), '{}');
      }
      expect([name, hasCheckpoint(job)]).toEqual([name, name !== 'none' && name !== 'partial']);
    }
  });

  it('moves a finished version into the models folder, and refuses to overwrite one', () => {
    const from = path.join(dir, 'job-1');
    const models = path.join(dir, 'models');
    mkdirSync(path.join(from, 'generator'), { recursive: true });
    mkdirSync(models, { recursive: true });
    writeFileSync(path.join(from, 'manifest.json'), '{"name":"x"}');
    expect(moveIntoModels(from, models, 'x-1')).toBe('x-1');
    expect(readFileSync(path.join(models, 'x-1', 'manifest.json'), 'utf8')).toBe('{"name":"x"}');
    mkdirSync(from);
    expect(() => moveIntoModels(from, models, 'x-1')).toThrow(`a folder of that name exists`);
  });
});
