import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { commandLineOf } from '../../../src/cli/flags';
import type { EvalReport } from '../../../src/evaluation/eval.cli';
import { readManifest, type ModelManifest } from '../../../src/models/manifest';
import { HISTORY_FILE, type HistoryEntry } from '../../../src/training/version-writer';
import type { EvalStep, Step, TrainStep } from './plan';

/** What a finished training step left: its version's manifest and learning curve. */
export interface TrainResult {
  kind: 'train';
  id: string;
  command: string;
  out: string;
  shipped: boolean;
  manifest: ModelManifest;
  history: HistoryEntry[];
}

/** What a finished evaluation step printed (`npm run eval -- --json`). */
export interface EvalResult {
  kind: 'eval';
  id: string;
  command: string;
  report: EvalReport;
}

export type StepResult = TrainResult | EvalResult;

export interface RunnerOptions {
  /** Project root: where `npm run train` and `npm run eval` run. */
  root: string;
  /** Where a step's out folder is relative to (the root in the full plan, the output folder in the quick one). */
  base: string;
  /** Where each step's result is kept as <id>.json. */
  resultsDir: string;
  /** Steps run at once. */
  jobs: number;
  /** Threads of each training's native kernels. */
  threads: number;
  /** Run the steps again even when their results exist. */
  force: boolean;
  log: (line: string) => void;
}

/** A folder as the commands name it: relative to the project root when inside it, else absolute. */
export function folderArg(dir: string, root: string): string {
  const rel = path.relative(root, dir);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

/** The command as a user would type it, for the tables and the skip check. */
export function stepCommand(step: Step, base: string, root: string): string {
  if (step.kind === 'train') return commandLineOf(['npm', 'run', 'train', '--'], [...step.args, '--out', folderArg(path.resolve(base, step.out), root)]);
  return commandLineOf(['npm', 'run', 'eval', '--'], step.args);
}

/** Flags that do not change what a command makes. */
const NEUTRAL_FLAGS = new Set(['--threads', '--resume', '--json']);

/**
 * A recorded command as its script and sorted flags, without the neutral ones: two commands that
 * make the same thing compare equal whatever the order of their flags.
 */
export function canonical(command: string): string {
  const tokens = command.split(/\s+/).filter((t) => t !== '');
  const dash = tokens.indexOf('--');
  const head = tokens.slice(0, dash < 0 ? tokens.length : dash + 1);
  const rest = dash < 0 ? [] : tokens.slice(dash + 1);
  const pairs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = i + 1 < rest.length && !rest[i + 1].startsWith('--') ? rest[++i] : undefined;
    if (!NEUTRAL_FLAGS.has(flag)) pairs.push(value === undefined ? flag : `${flag} ${value}`);
  }
  return [...head, ...pairs.sort()].join(' ');
}

function resultFile(options: RunnerOptions, id: string): string {
  return path.join(options.resultsDir, `${id}.json`);
}

/** The step's kept result when it was made by the same command. */
export function readResult(options: Pick<RunnerOptions, 'resultsDir'>, id: string, command: string): StepResult | undefined {
  const file = path.join(options.resultsDir, `${id}.json`);
  if (!existsSync(file)) return undefined;
  const result = JSON.parse(readFileSync(file, 'utf8')) as StepResult;
  return canonical(result.command) === canonical(command) ? result : undefined;
}

/** A version folder's manifest and history when its recorded command is `command` (a run made by hand counts). */
function finishedVersion(dir: string, command: string): { manifest: ModelManifest; history: HistoryEntry[] } | undefined {
  if (!existsSync(path.join(dir, 'manifest.json')) || !existsSync(path.join(dir, HISTORY_FILE))) return undefined;
  const manifest = readManifest(dir);
  if (canonical(manifest.training.command) !== canonical(command)) return undefined;
  return { manifest, history: JSON.parse(readFileSync(path.join(dir, HISTORY_FILE), 'utf8')) as HistoryEntry[] };
}

/** Runs `npm run <script> -- args` in root; resolves with its stdout, rejects with the tail of its stderr. */
function runScript(root: string, script: string, args: string[], onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', script, '--', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const tail: string[] = [];
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine(line);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`npm run ${script} -- ${args.join(' ')} exited with ${code}:\n${tail.join('\n')}`));
    });
  });
}

async function runTrain(step: TrainStep, options: RunnerOptions, command: string): Promise<TrainResult> {
  const out = path.resolve(options.base, step.out);
  let version = finishedVersion(out, command);
  if (version === undefined) {
    const resume = existsSync(path.join(out, 'checkpoint')) && !options.force ? ['--resume'] : [];
    options.log(`${step.id}: ${command}${resume.length > 0 ? ' (resuming its checkpoint)' : ''}`);
    // Epoch lines only: a step line a second from each run would drown the log.
    await runScript(options.root, 'train', [...step.args, '--out', folderArg(out, options.root), '--threads', String(options.threads), ...resume], (line) => {
      if (/^epoch \d+ done|^resuming|^kept|^done in/.test(line)) options.log(`${step.id}: ${line}`);
    });
    version = finishedVersion(out, command);
    if (version === undefined) throw new Error(`${step.id}: expected ${out}/manifest.json and ${HISTORY_FILE} written by \`${command}\`, found none`);
  } else {
    options.log(`${step.id}: ${path.relative(options.root, out)} was made by this command; reading it`);
  }
  return { kind: 'train', id: step.id, command, out: path.relative(options.base, out), shipped: step.shipped, ...version };
}

/** An eval step's flags as run: its model (the trained version's folder) first, its figure's file last. */
function evalArgsOf(step: EvalStep, steps: ReadonlyMap<string, Step>, options: Pick<RunnerOptions, 'base' | 'root'>): string[] {
  const args = [...step.args];
  if (step.after !== undefined) {
    const trained = steps.get(step.after);
    if (trained?.kind !== 'train') throw new Error(`${step.id}: expected the training step ${step.after} before it, got none`);
    args.unshift('--model', folderArg(path.resolve(options.base, trained.out), options.root));
  }
  if (step.figure !== undefined) args.push('--nearest', folderArg(path.resolve(options.base, step.figure), options.root));
  return args;
}

async function runEval(step: EvalStep, options: RunnerOptions, command: string, steps: ReadonlyMap<string, Step>): Promise<EvalResult> {
  const args = evalArgsOf(step, steps, options);
  options.log(`${step.id}: ${command}`);
  const stdout = await runScript(options.root, 'eval', [...args, '--json'], () => undefined);
  return { kind: 'eval', id: step.id, command, report: JSON.parse(stdout.trim().split('\n').pop() ?? '') as EvalReport };
}

/** The step's command as a user would type it; an eval's names its model by the trained version's folder. */
export function commandOf(step: Step, steps: ReadonlyMap<string, Step>, options: Pick<RunnerOptions, 'base' | 'root'>): string {
  if (step.kind === 'eval') {
    const trained = step.after === undefined ? undefined : steps.get(step.after);
    // A model not in the plan: named as the step names it (the run fails with that reason).
    if (step.after === undefined || trained?.kind === 'train')
      return stepCommand({ ...step, args: evalArgsOf(step, steps, options) }, options.base, options.root);
  }
  return stepCommand(step, options.base, options.root);
}

/**
 * Runs the steps that have no result yet, `jobs` at a time, an eval only after its training; keeps
 * each result as <resultsDir>/<id>.json as soon as it is done, so an interrupted run goes on where
 * it stopped (a training resumes its checkpoint). Returns every step's result; throws after the
 * others finish if any step failed.
 */
export async function runSteps(steps: readonly Step[], options: RunnerOptions): Promise<Map<string, StepResult>> {
  mkdirSync(options.resultsDir, { recursive: true });
  const byId = new Map(steps.map((s) => [s.id, s]));
  const results = new Map<string, StepResult>();
  const failures: string[] = [];
  const pending = [...steps];
  const running = new Set<Promise<void>>();
  const started = performance.now();

  const ready = (step: Step): boolean => step.kind === 'train' || step.after === undefined || results.has(step.after);
  const blocked = (step: Step): boolean => step.kind === 'eval' && step.after !== undefined && failures.some((f) => f.startsWith(`${step.after}:`));

  const start = (step: Step): void => {
    const command = commandOf(step, byId, options);
    const kept = options.force ? undefined : readResult(options, step.id, command);
    const work = (async () => {
      if (kept) {
        results.set(step.id, kept);
        return;
      }
      const t0 = performance.now();
      const result = step.kind === 'train' ? await runTrain(step, options, command) : await runEval(step, options, command, byId);
      writeFileSync(resultFile(options, step.id), `${JSON.stringify(result, null, 1)}\n`);
      results.set(step.id, result);
      options.log(`${step.id}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s (${results.size}/${steps.length} steps)`);
    })().catch((err: unknown) => {
      failures.push(`${step.id}: ${err instanceof Error ? err.message : String(err)}`);
      options.log(`${step.id}: FAILED`);
    });
    const tracked = work.finally(() => running.delete(tracked));
    running.add(tracked);
  };

  while (pending.length > 0 || running.size > 0) {
    for (let i = 0; i < pending.length && running.size < options.jobs;) {
      const step = pending[i];
      if (blocked(step)) {
        failures.push(`${step.id}: not run, its training ${step.kind === 'eval' ? step.after : ''} failed`);
        pending.splice(i, 1);
      } else if (ready(step)) {
        pending.splice(i, 1);
        start(step);
      } else i++;
    }
    if (running.size === 0 && pending.length > 0) {
      // Only blocked evals are left.
      for (const step of pending.splice(0)) failures.push(`${step.id}: not run, its training failed`);
      break;
    }
    if (running.size > 0) await Promise.race(running);
  }
  options.log(`reproduce: ${results.size} of ${steps.length} steps have results (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (failures.length > 0) throw new Error(`${failures.length} step(s) failed:\n${failures.join('\n')}`);
  return results;
}
