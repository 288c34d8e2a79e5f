import { spawnSync } from 'node:child_process';

/**
 * PyTorch CPU as a speed peer for bench/ scripts: Debian's python3-torch with OpenBLAS, run from
 * the system interpreter, at thread settings for 2 cores (the fastest is the fair peer).
 */

/** Debian's torch is importable only from the system interpreter, not a pyenv python3 on PATH. */
export const PYTHON = '/usr/bin/python3';
export const PYTORCH_PACKAGES = ['python3-torch', 'libopenblas0-pthread'];

export interface TorchSetting {
  label: string;
  /** torch.set_num_threads */
  threads: number;
  env: Record<string, string>;
}

/**
 * torch 1 and 2 threads, OpenBLAS held to 1 in both: its threads on top of torch's would
 * oversubscribe 2 cores, and spin-waiting threads suffer most when other processes share them.
 */
export const TORCH_SETTINGS: readonly TorchSetting[] = [
  { label: 'torch 1 thread, OPENBLAS_NUM_THREADS=1', threads: 1, env: { OPENBLAS_NUM_THREADS: '1' } },
  { label: 'torch 2 threads, OPENBLAS_NUM_THREADS=1', threads: 2, env: { OPENBLAS_NUM_THREADS: '1' } },
];

export interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** Runs a command to completion; stderr goes to the terminal unless `quiet`. */
export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; quiet?: boolean }): CommandResult {
  const result = spawnSync(command, args, {
    env: options.env ?? process.env,
    timeout: options.timeoutMs,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', options.quiet ? 'pipe' : 'inherit'],
  });
  return { ok: result.status === 0, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

function missingPackages(): string[] {
  const torch = runCommand(PYTHON, ['-c', 'import torch'], { timeoutMs: 60_000, quiet: true }).ok;
  const blas = runCommand('dpkg-query', ['-W', '-f=${Status}', 'libopenblas0-pthread'], { timeoutMs: 10_000, quiet: true }).stdout.includes(
    'install ok installed',
  );
  return [...(torch ? [] : ['python3-torch']), ...(blas ? [] : ['libopenblas0-pthread'])];
}

/** apt-get install of the peer's packages when missing, with an `apt-get update` only if the first try fails. */
export function ensurePytorch(log: (msg: string) => void = console.log): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y ${PYTORCH_PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0) throw new Error(`${missing.join(', ')} missing: run \`${command}\` as root, then rerun`);
  log(`installing ${missing.join(', ')} (${command}) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => runCommand('apt-get', ['install', '-y', '--no-install-recommends', ...PYTORCH_PACKAGES], { env, timeoutMs: 20 * 60_000, quiet: true });
  let result = install();
  if (!result.ok) {
    runCommand('apt-get', ['update'], { env, timeoutMs: 5 * 60_000, quiet: true });
    result = install();
  }
  if (!result.ok || missingPackages().length > 0) {
    throw new Error(`${command} failed: ${(result.error?.message ?? result.stderr).trim().split('\n').slice(-3).join(' / ')}`);
  }
}

/** The last stdout line that parses as a JSON object (robust to banners printed before it). */
export function lastJsonLine(stdout: string, script: string): unknown {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`${script}: expected a JSON report on stdout, got ${JSON.stringify(stdout.slice(-500))}`);
  return JSON.parse(line) as unknown;
}

export interface PeerStepReport {
  /** Trainable parameters of each network, by the name the bench gives it. */
  parameterCounts: Record<string, number>;
  /** Each check step's losses, by name. */
  check: Record<string, number>[];
  timing: { msPerStep: number; min: number; max: number; steps: number; cpuMsPerStep?: number };
}

const isNumbers = (value: unknown): value is Record<string, number> =>
  typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'number');

function isPeerStepReport(value: unknown): value is PeerStepReport {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<PeerStepReport>; // fields checked one by one below
  return Array.isArray(r.check) && r.check.every(isNumbers) && isNumbers(r.parameterCounts) && typeof r.timing?.msPerStep === 'number';
}

/**
 * Runs a PyTorch step script (bench/pytorch-*-step.py: --dir, --threads, --steps, --warmup,
 * --check-steps; one JSON line out) at each of TORCH_SETTINGS; the first run also does the check steps.
 */
export function runStepPeers(script: string, dir: string, options: { torchSteps: number; checkSteps: number }): (PeerStepReport & { label: string })[] {
  return TORCH_SETTINGS.map((setting, i) => {
    const args = [script, '--dir', dir, '--threads', String(setting.threads), '--steps', String(options.torchSteps), '--warmup', '3'];
    if (i === 0) args.push('--check-steps', String(options.checkSteps));
    const name = script.split('/').pop() ?? script;
    const result = runCommand(PYTHON, args, { env: { ...process.env, ...setting.env }, timeoutMs: 10 * 60_000 });
    if (!result.ok) throw new Error(`${name} (${setting.label}) failed: ${result.error?.message ?? 'non-zero exit'}`);
    const report = lastJsonLine(result.stdout, name);
    if (!isPeerStepReport(report)) throw new Error(`${name}: expected {check, parameterCounts, timing}, got ${result.stdout.slice(-300)}`);
    return { label: `PyTorch ${setting.label}`, ...report };
  });
}
