import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { frechetDistanceOfFeatures } from '../../src/evaluation/fid';
import { inceptionScore } from '../../src/evaluation/inception-score';

/** Debian's numpy and scipy live under the system interpreter (python3-numpy, python3-scipy). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'reference.py');

function referenceUnavailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, scipy.linalg'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return `${PYTHON} cannot import numpy and scipy (apt-get install python3-numpy python3-scipy): ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

const skipReason = referenceUnavailable();
if (skipReason !== undefined) process.stderr.write(`reference.test: skipping the numpy/scipy comparison: ${skipReason}\n`);

function softmaxRows(n: number, k: number, seed: number): number[][] {
  const p = createPrng(seed);
  return Array.from({ length: n }, () => {
    // Peaked logits, so rows look like a confident classifier's.
    const logits = Array.from({ length: k }, () => 3 * p.nextNormal());
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

function correlatedRows(n: number, d: number, seed: number, shift: number): number[][] {
  const p = createPrng(seed);
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: d }, () => p.nextNormal());
    // Each feature mixes its neighbour, so the covariance is not diagonal.
    return z.map((v, k) => v * (1 + k / 10) + 0.5 * z[(k + 1) % d] + shift * (k % 3));
  });
}

describe.skipIf(skipReason !== undefined)('IS and FID against numpy / scipy (test/evaluation/reference.py)', () => {
  it('agree to 1e-6 relative', () => {
    const probs = softmaxRows(250, 10, 1);
    const splits = [10, 7, 1];
    const features1 = correlatedRows(300, 20, 2, 0);
    const features2 = correlatedRows(280, 20, 3, 0.2);
    const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify({ probs, splits, features1, features2 }), encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const ref = JSON.parse(run.stdout) as { inception: { splits: number; mean: number; std: number }[]; fid: number };

    for (const r of ref.inception) {
      const ours = inceptionScore(probs, { splits: r.splits });
      expect(Math.abs(ours.mean - r.mean) / r.mean).toBeLessThan(1e-6);
      // std is compared relative to the mean: for one split both are exactly 0.
      expect(Math.abs(ours.std - r.std) / r.mean).toBeLessThan(1e-6);
    }
    // A meaningful case: a spread of split scores, not 1 and not K.
    expect(ref.inception[0].mean).toBeGreaterThan(2);
    expect(ref.inception[0].std).toBeGreaterThan(0);

    const fid = frechetDistanceOfFeatures(features1, features2);
    expect(ref.fid).toBeGreaterThan(1);
    expect(Math.abs(fid - ref.fid) / ref.fid).toBeLessThan(1e-6);
  });
});
