import 'reflect-metadata';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/database';
import { parseFlags } from './flags';
import { ApiKeyService, type ApiKeyRecord } from '../auth/api-key.service';

const USAGE = [
  'usage: npm run keys -- create --name NAME --scopes read,sample,train,admin [--rate-limit REQUESTS_PER_SECOND]',
  '       npm run keys -- list',
  '       npm run keys -- revoke --id ID',
  'The key is printed once by create; only its hash is stored. DATABASE_URL selects the database, as for the server.',
].join('\n');

function describe(k: ApiKeyRecord): string {
  const rate = k.rateLimit === null ? 'default rate' : k.rateLimit === 0 ? 'no rate limit' : `${k.rateLimit}/s`;
  return `${k.id}  ${k.name}  scopes=${k.scopes.join(',')}  ${rate}  created=${k.createdAt.toISOString()}${k.revokedAt ? `  REVOKED ${k.revokedAt.toISOString()}` : ''}`;
}

/** Runs one keys command and returns what it prints on stdout. */
export async function runKeysCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const [command, ...rest] = argv;
  if (command !== 'create' && command !== 'list' && command !== 'revoke') {
    throw new Error(`expected a command create, list or revoke, got ${JSON.stringify(command ?? '')}\n${USAGE}`);
  }
  const flags = parseFlags(rest, { options: ['name', 'scopes', 'rate-limit', 'id'], usage: USAGE, example: 'name' });
  const config = loadConfig(env);
  const database = openDatabase(config.databaseUrl);
  try {
    await database.migrate();
    const keys = new ApiKeyService(database.prisma);
    switch (command) {
      case 'create': {
        const rate = flags.has('rate-limit') ? flags.real('rate-limit', 0, Infinity, 0, true) : undefined;
        const created = await keys.create(flags.required('name'), flags.required('scopes'), rate);
        return `${created.token}\n# ${describe(created.record)}\n# Send it as "Authorization: Bearer <key>". It is not shown again.\n`;
      }
      case 'list': {
        const all = await keys.list();
        return all.length === 0 ? '# no API keys\n' : `${all.map(describe).join('\n')}\n`;
      }
      case 'revoke':
        return `${describe(await keys.revoke(flags.required('id')))}\n`;
    }
  } finally {
    await database.close();
  }
}

if (require.main === module && (process.argv.includes('--help') || process.argv.includes('-h'))) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

if (require.main === module) {
  runKeysCommand(process.argv.slice(2)).then(
    (out) => {
      process.stdout.write(out);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`keys: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
