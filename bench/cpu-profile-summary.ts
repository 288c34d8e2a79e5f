/**
 * Where a V8 CPU profile's self time goes: by area of ganql's request path, then the top functions.
 *
 *   npx tsx bench/cpu-profile-summary.ts <file.cpuprofile | folder> [--top 25] [--from /router/]
 *
 * Samples before the first request (start-up: module loading, tsx compiling) are left out: counting
 * starts at the first sample inside a module whose URL contains --from (Express's router by default).
 * The server answers /healthz while its models still load, so for a phase of one kind of request, name
 * a module only that request reaches (`--from sample.service` for samples) to leave the loading out too.
 * A folder: its largest .cpuprofile (the server's main thread when written by bench/serving.ts
 * --cpu-prof; npm's and tsx's own processes write small ones beside it).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { numberArg, stringArg } from './lib/cli-args';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Area of a frame, first match wins: ganql's own code by folder, dependencies by package. */
const AREAS: [string, (url: string, fn: string) => boolean][] = [
  ['idle', (_u, f) => f === '(idle)'],
  ['GC', (_u, f) => f === '(garbage collector)'],
  ['graphql parse', (u) => u.includes('/graphql/language/')],
  ['graphql validate', (u) => u.includes('/graphql/validation/')],
  ['graphql execute', (u) => u.includes('/graphql/execution/') || u.includes('/graphql/type/') || u.includes('/graphql/utilities/')],
  ['query limits', (u) => u.includes('/src/server/query-limits/') || u.includes('/src/server/document-nesting')],
  ['auth', (u) => u.includes('/src/server/auth') || u.includes('/src/auth/')],
  ['admission', (u) => u.includes('/src/server/admission')],
  ['Prisma', (u) => u.includes('@prisma') || u.includes('/prisma/')],
  ['SQLite driver', (u) => u.includes('better-sqlite3') || u.includes('/src/db/')],
  ['PNG encode', (u) => u.includes('pngjs') || u.includes('/src/images/') || u === 'node:zlib' || u.includes('zlib')],
  ['pool', (u) => u.includes('/src/inference/')],
  ['Apollo Server', (u) => u.includes('@apollo/') || u.includes('@as-integrations/')],
  ['type-graphql', (u) => u.includes('type-graphql')],
  ['Express', (u) => u.includes('/express/') || u.includes('/router/') || u.includes('body-parser') || u.includes('/cors/')],
  ['logging', (u) => u.includes('pino') || u.includes('/src/log/')],
  ['metrics', (u) => u.includes('prom-client') || u.includes('/src/metrics')],
  ['ganql resolvers and services', (u) => u.includes('/src/')],
  ['Node HTTP and streams', (u) => u.startsWith('node:')],
  ['native and builtins (JSON, base64, ...)', (u) => u === ''],
];

function profilePath(arg: string): string {
  if (!statSync(arg).isDirectory()) return arg;
  const files = readdirSync(arg)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(arg, f));
  if (files.length === 0) throw new Error(`${arg}: expected .cpuprofile files, got none`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
}

function main(): void {
  const arg = process.argv[2];
  if (!arg || arg.startsWith('--')) throw new Error('usage: expected a .cpuprofile file or a folder of them, got none');
  const top = numberArg('top', 25, 1, 1000);
  const from = stringArg('from', '/router/');
  const file = profilePath(arg);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Start-up (module loading, tsx compiling) is not the request path: count from the first sample inside `from`.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inFrom = (id: number | undefined): boolean => {
    for (; id !== undefined; id = parent.get(id)) if (byId.get(id)!.callFrame.url.includes(from)) return true;
    return false;
  };
  const first = profile.samples.findIndex((id) => inFrom(id));
  if (first < 0) throw new Error(`${file}: expected a sample inside a module matching --from ${JSON.stringify(from)}, got none`);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (i >= first) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  const areas = new Map<string, number>();
  const functions = new Map<string, { us: number; area: string }>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url: raw, lineNumber, columnNumber } = byId.get(id)!.callFrame;
    // The compiled build (dist/ mirrors src/) counts as the sources it came from.
    const url = raw.includes('/node_modules/') ? raw : raw.replace(/\/dist\//, '/src/');
    const area = AREAS.find(([, match]) => match(url, functionName))?.[0] ?? 'other';
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key =
      `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${lineNumber + 1}:${columnNumber + 1}` : ''}`.trim();
    const f = functions.get(key) ?? { us: 0, area };
    f.us += us;
    functions.set(key, f);
    total += us;
  }
  const busy = total - (areas.get('idle') ?? 0);
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled from the first request on, ${(busy / 1e6).toFixed(1)} s busy; shares of busy time\n`);
  console.log(`${'area'.padEnd(42)}  share`);
  for (const [area, us] of [...areas].filter(([a]) => a !== 'idle').sort((a, b) => b[1] - a[1]))
    console.log(`${area.padEnd(42)}${((100 * us) / busy).toFixed(1).padStart(6)}%`);
  console.log(`\n${'function'.padEnd(90)}  share  area`);
  for (const [name, f] of [...functions]
    .filter(([, f]) => f.area !== 'idle')
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top))
    console.log(`${name.slice(0, 90).padEnd(90)}${((100 * f.us) / busy).toFixed(1).padStart(6)}%  ${f.area}`);
}

main();
