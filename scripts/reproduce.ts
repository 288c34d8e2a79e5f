// `npm run reproduce`: retrains and re-evaluates what docs/research.md's result tables describe and
// writes the tables. See docs/research.md, "Reproducing the results".
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseFlags } from '../src/cli/flags';
import { planSteps, type ReproduceMode, type Step } from './lib/reproduce/plan';
import { commandOf, readResult, runSteps, type RunnerOptions, type StepResult } from './lib/reproduce/runner';
import { fillBlocks, renderResults } from './lib/reproduce/tables';

const USAGE =
  'usage: npm run reproduce -- [--quick [--out DIR]] [--jobs 1] [--threads N] [--only REGEX] [--list] [--tables-only] [--force]\n' +
  '  full (default): trains into models/ and runs/reproduce/, keeps results in docs/results/, writes docs/research.md and docs/figures/\n' +
  '  --quick: the same steps on tiny settings, everything under --out (a new temporary folder by default)';

const ROOT = path.resolve(__dirname, '..');

interface ReproduceArgs {
  mode: ReproduceMode;
  out: string;
  jobs: number;
  threads: number;
  only?: RegExp;
  list: boolean;
  tablesOnly: boolean;
  force: boolean;
}

export function parseReproduceArgs(argv: readonly string[]): ReproduceArgs {
  const args = parseFlags(argv, { options: ['out', 'jobs', 'threads', 'only'], flags: ['quick', 'list', 'tables-only', 'force'], usage: USAGE });
  const mode: ReproduceMode = args.has('quick') ? 'quick' : 'full';
  if (mode === 'full' && args.has('out'))
    throw new Error(`--out: expected it only with --quick (the full run writes docs/ and models/), got ${args.get('out')}`);
  const jobs = args.int('jobs', 1, { max: 8, fallback: 1 });
  const cores = os.availableParallelism();
  const threads = args.int('threads', 1, { max: 64, fallback: Math.max(1, Math.floor(cores / jobs)) });
  const onlyText = args.get('only');
  let only: RegExp | undefined;
  if (onlyText !== undefined) {
    try {
      only = new RegExp(onlyText);
    } catch (err) {
      throw new Error(`--only: expected a regular expression over step ids, got ${JSON.stringify(onlyText)} (${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  const out = mode === 'quick' ? path.resolve(args.get('out') ?? mkdtempSync(path.join(os.tmpdir(), 'ganql-reproduce-'))) : ROOT;
  return { mode, out, jobs, threads, only, list: args.has('list'), tablesOnly: args.has('tables-only'), force: args.has('force') };
}

/** Where a mode keeps its results, document and figures. */
function layout(a: ReproduceArgs): { resultsDir: string; doc: string; figuresDir: string } {
  if (a.mode === 'full')
    return { resultsDir: path.join(ROOT, 'docs', 'results'), doc: path.join(ROOT, 'docs', 'research.md'), figuresDir: path.join(ROOT, 'docs', 'figures') };
  return { resultsDir: path.join(a.out, 'results'), doc: path.join(a.out, 'research.md'), figuresDir: path.join(a.out, 'figures') };
}

export async function reproduce(
  argv: readonly string[],
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<{ doc: string; results: Map<string, StepResult> }> {
  const a = parseReproduceArgs(argv);
  const steps: Step[] = planSteps(a.mode);
  const { resultsDir, doc, figuresDir } = layout(a);
  const options: RunnerOptions = { root: ROOT, base: a.out, resultsDir, jobs: a.jobs, threads: a.threads, force: a.force, log };
  const byId = new Map(steps.map((s) => [s.id, s]));
  const kept = (): Map<string, StepResult> => {
    const found = new Map<string, StepResult>();
    for (const s of steps) {
      const r = readResult(options, s.id, commandOf(s, byId, options));
      if (r) found.set(s.id, r);
    }
    return found;
  };

  if (a.list) {
    const have = kept();
    for (const s of steps) log(`${have.has(s.id) ? 'done   ' : 'pending'} ${s.id}: ${commandOf(s, byId, options)}`);
    return { doc, results: have };
  }
  if (!a.tablesOnly) {
    const chosen = a.only ? steps.filter((s) => a.only!.test(s.id)) : steps;
    if (chosen.length === 0) throw new Error(`--only: expected a pattern matching some of ${steps.map((s) => s.id).join(', ')}, got ${a.only}`);
    // An eval of a model whose training is not chosen still needs that training's result.
    const needed = new Set(chosen.map((s) => s.id));
    for (const s of chosen) if (s.kind === 'eval' && s.after !== undefined) needed.add(s.after);
    log(
      `reproduce (${a.mode}): ${needed.size} steps, ${a.jobs} at a time, ${a.threads} thread(s) each; results in ${path.relative(process.cwd(), resultsDir) || '.'}`,
    );
    await runSteps(
      steps.filter((s) => needed.has(s.id)),
      options,
    );
  }
  const results = kept();
  const rendered = renderResults({ steps, results, resultsDir: path.relative(path.dirname(doc), resultsDir) });
  const source = a.mode === 'full' ? readFileSync(doc, 'utf8') : readFileSync(path.join(ROOT, 'docs', 'research.md'), 'utf8');
  mkdirSync(path.dirname(doc), { recursive: true });
  writeFileSync(doc, fillBlocks(source, rendered.blocks));
  mkdirSync(figuresDir, { recursive: true });
  for (const [name, svg] of rendered.figures) writeFileSync(path.join(figuresDir, name), svg);
  log(
    `wrote ${path.relative(process.cwd(), doc)} (${rendered.blocks.size} tables, ${results.size} of ${steps.length} steps with results) and ${rendered.figures.size} figure(s)`,
  );
  return { doc, results };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  reproduce(argv).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`reproduce: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
