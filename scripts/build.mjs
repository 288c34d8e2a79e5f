// @ts-check
/**
 * Compiles src/ to dist/ for `npm start`: every .ts file to a CommonJS .js file beside its source map
 * (esbuild, one file at a time, no bundling), plus a copy of the generated Prisma clients. dist/
 * mirrors src/ folder for folder, so every path a module finds from its own folder (web/, prisma/,
 * package.json, the workers' entries) resolves the same from dist/ as from src/.
 *
 *   node scripts/build.mjs            build unless dist/ already matches the sources (what `npm start` runs first)
 *   node scripts/build.mjs --force    build anyway
 *
 * esbuild only strips types: `tsc --noEmit -p .` (in `npm test`) is what checks them. The new dist/
 * is written beside the old one and swapped in once complete, so a failed build leaves the old one.
 * Plain JavaScript, so that it runs with node alone.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
/** Copied as they are: Prisma's generated clients are JavaScript already (made by `npm ci`). */
const GENERATED = path.join(SRC, 'generated');
/** Records which inputs dist/ was built from. */
const STAMP = '.build.json';

/** Files under `dir` (recursive), as absolute paths in a stable order. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/** The TypeScript sources to compile: src/**\/*.ts outside the generated clients. */
function sources() {
  return filesUnder(SRC).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith(GENERATED + path.sep));
}

/**
 * What the build depends on: each input's path, size and modification time, esbuild's version and
 * this script. Any edit, added or deleted file, or `npm ci` changes it.
 */
function fingerprint(inputs) {
  const hash = createHash('sha256');
  hash.update(`esbuild ${esbuild.version}\n`);
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of inputs) {
    const { size, mtimeMs } = statSync(file);
    hash.update(`${path.relative(ROOT, file)} ${size} ${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(path.join(DIST, STAMP), 'utf8')).fingerprint;
  } catch {
    return undefined;
  }
}

async function build(entryPoints, stamp) {
  if (!existsSync(GENERATED)) throw new Error('src/generated is missing: run `npm ci` (or `npx tsx scripts/prisma.ts generate`) first');
  const next = path.join(ROOT, `.dist-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  try {
    await esbuild.build({
      entryPoints,
      outbase: SRC,
      outdir: next,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      // experimentalDecorators, as tsc and vitest read them; type-graphql decorators name their types explicitly.
      tsconfig: path.join(ROOT, 'tsconfig.json'),
      logLevel: 'warning',
    });
    cpSync(GENERATED, path.join(next, 'generated'), { recursive: true });
    writeFileSync(path.join(next, STAMP), `${JSON.stringify({ fingerprint: stamp, builtAt: new Date().toISOString() }, null, 2)}\n`);
    const old = path.join(ROOT, `.dist-old-${process.pid}`);
    if (existsSync(DIST)) renameSync(DIST, old);
    try {
      renameSync(next, DIST);
    } catch (error) {
      // Another build (a second `npm start` at the same moment) swapped in first: fine if it built the same sources.
      if (readStamp() !== stamp) throw error;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
}

async function main() {
  const force = process.argv.includes('--force');
  const entryPoints = sources();
  const stamp = fingerprint([...entryPoints, ...(existsSync(GENERATED) ? filesUnder(GENERATED) : []), path.join(ROOT, 'tsconfig.json')]);
  if (!force && readStamp() === stamp) return;
  const started = performance.now();
  await build(entryPoints, stamp);
  // stderr: stdout stays for what the command after it prints.
  process.stderr.write(`built dist/ (${entryPoints.length} modules) in ${Math.round(performance.now() - started)} ms\n`);
}

main().catch((error) => {
  process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
