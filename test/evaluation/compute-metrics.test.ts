import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { computeMetrics, type MetricsInput } from '../../src/evaluation/compute-metrics';
import { frechetDistance, gaussianStats } from '../../src/evaluation/fid';
import { inceptionScore } from '../../src/evaluation/inception-score';
import { kernelInceptionDistance } from '../../src/evaluation/kid';
import type { Matrix } from '../../src/evaluation/matrix';
import { computeMetricsInThread, computeMetricsInWorker } from '../../src/evaluation/metrics-runner';
import { parzenLogLikelihood } from '../../src/evaluation/parzen';

function uniformRows(rows: number, cols: number, seed: number): Matrix {
  const p = createPrng(seed);
  return { data: Float64Array.from({ length: rows * cols }, () => p.next()), rows, cols };
}

function softmaxRows(rows: number, classes: number, seed: number): Matrix {
  const m = uniformRows(rows, classes, seed);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += m.data[i * classes + k] = Math.exp(4 * m.data[i * classes + k]);
    for (let k = 0; k < classes; k++) m.data[i * classes + k] /= sum;
  }
  return m;
}

const reference = uniformRows(150, 6, 3);
const input: MetricsInput = {
  metrics: ['INCEPTION_SCORE', 'FID', 'KID', 'PARZEN'],
  probs: softmaxRows(120, 5, 1),
  features: uniformRows(120, 6, 2),
  splits: 3,
  seed: 7,
  reference: { stats: gaussianStats(reference), features: reference },
  parzen: { samples: uniformRows(120, 4, 4), validation: uniformRows(30, 4, 5), test: uniformRows(40, 4, 6) },
};

describe('computeMetrics', () => {
  it('is the tested metric functions with the evaluation protocol: shuffled IS splits, KID subsets min(1000, sizes), Parzen grid 10^[-1, 0]', () => {
    const out = computeMetrics(input);
    expect(out.inceptionScore).toEqual(inceptionScore(input.probs, { splits: 3, shuffleSeed: 7 }));
    expect(out.fid).toBe(frechetDistance(gaussianStats(input.features), input.reference!.stats));
    const kid = kernelInceptionDistance(input.features, reference, { subsetSize: 120, subsets: 100, seed: 7 });
    expect(out.kid).toEqual({ mean: kid.mean, std: kid.std, subsetSize: 120, subsets: 100 });
    const parzen = parzenLogLikelihood(input.parzen!.samples, input.parzen!.validation, input.parzen!.test);
    expect(out.parzen).toEqual(parzen);
    expect(parzen.validation.map((v) => v.sigma)[0]).toBeCloseTo(0.1, 12);
  });

  it('computes only what is asked', () => {
    const out = computeMetrics({ ...input, metrics: ['INCEPTION_SCORE'], reference: undefined, parzen: undefined });
    expect(Object.keys(out)).toEqual(['inceptionScore']);
    expect(() => computeMetrics({ ...input, metrics: ['FID'], reference: undefined })).toThrow('computeMetrics: FID and KID need reference features, got none');
  });
});

describe('computeMetricsInWorker', () => {
  it('gives exactly the numbers of the in-thread computation', async () => {
    expect(await computeMetricsInWorker(input)).toEqual(await computeMetricsInThread(input));
  });

  it("rejects with the math's own message", async () => {
    await expect(computeMetricsInWorker({ ...input, splits: 500 })).rejects.toThrow('metrics worker: inceptionScore: splits: expected an integer in [1, 120]');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = computeMetricsInWorker(input, controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    await expect(computeMetricsInWorker(input, controller.signal)).rejects.toThrow('shutting down');
  });
});
