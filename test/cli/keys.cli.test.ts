import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKeysCommand } from '../../src/cli/keys.cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ganql-keys-'));
const env = { DATABASE_URL: `file:${path.join(dir, 'ganql.db')}` };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run keys', () => {
  it('creates a key shown once, lists it without the secret, and revokes it', async () => {
    const created = await runKeysCommand(['create', '--name', 'ci bot', '--scopes', 'read,train', '--rate-limit', '5'], env);
    const [token, summary] = created.split('\n');
    expect(token).toMatch(/^gq_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/);
    const id = token.slice(3, 15);
    expect(summary).toMatch(new RegExp(`^# ${id}  ci bot  scopes=read,train  5/s  created=`));

    const listed = await runKeysCommand(['list'], env);
    expect(listed).toContain(`${id}  ci bot  scopes=read,train  5/s`);
    expect(listed).not.toContain(token.slice(16));

    const revoked = await runKeysCommand(['revoke', '--id', id], env);
    expect(revoked).toMatch(/REVOKED \d{4}-/);
    expect(await runKeysCommand(['list'], env)).toContain('REVOKED');
  });

  it('refuses bad input with what was expected', async () => {
    await expect(runKeysCommand(['make'], env)).rejects.toThrow('expected a command create, list or revoke, got "make"');
    await expect(runKeysCommand(['create', '--name', 'x', '--scopes', 'write'], env)).rejects.toThrow(
      'scopes: expected scopes from read, sample, train, admin separated by commas, got "write"',
    );
    await expect(runKeysCommand(['create', '--name', 'x', '--scopes', ''], env)).rejects.toThrow(
      'scopes: expected at least one of read, sample, train, admin, got none',
    );
    await expect(runKeysCommand(['create', '--scopes', 'read'], env)).rejects.toThrow('--name: expected a value, got none');
    await expect(runKeysCommand(['revoke', '--id', 'ffffffffffff'], env)).rejects.toThrow('API key "ffffffffffff" not found');
    await expect(runKeysCommand(['create', '--name', 'x', '--scope', 'read'], env)).rejects.toThrow(
      'Expected one of --name, --scopes, --rate-limit, --id, got --scope',
    );
    await expect(runKeysCommand(['create', '--name', 'x', '--scopes', 'read', '--rate-limit', 'fast'], env)).rejects.toThrow(
      '--rate-limit: expected a number in [0, Infinity), got "fast"',
    );
  });
});
