import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { defaultParzenSigmas, logSpace, parzenLogDensities, parzenLogLikelihood } from '../../src/evaluation/parzen';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI); // 0.918938...

describe('parzenLogDensities', () => {
  it('matches hand computations in 1-D', () => {
    // Samples {0, 1}, sigma 1.
    // x = 0.5: both squared distances 0.25, log mean exp(-0.125) = -0.125; minus 1 * log(1 * sqrt(2 pi)).
    // x = 0: distances 0 and 1: log((e^0 + e^-0.5) / 2) - log sqrt(2 pi).
    const [ll] = parzenLogDensities([[0], [1]], [[0.5], [0]], [1]);
    expect(ll[0]).toBeCloseTo(-0.125 - LOG_SQRT_2PI, 14);
    expect(ll[0]).toBeCloseTo(-1.043939, 6);
    expect(ll[1]).toBeCloseTo(Math.log((1 + Math.exp(-0.5)) / 2) - LOG_SQRT_2PI, 14);
  });

  it('matches a hand computation in 2-D and for several sigmas at once', () => {
    // Samples (0,0), (2,0); x = (0,0); squared distances 0 and 4.
    // sigma 0.5: exponents 0 and -4 / (2 * 0.25) = -8; log((1 + e^-8) / 2) - 2 log(0.5 sqrt(2 pi)).
    // sigma 2: exponents 0 and -4 / 8 = -0.5; log((1 + e^-0.5) / 2) - 2 log(2 sqrt(2 pi)).
    const [a, b] = parzenLogDensities(
      [
        [0, 0],
        [2, 0],
      ],
      [[0, 0]],
      [0.5, 2],
    );
    expect(a[0]).toBeCloseTo(Math.log((1 + Math.exp(-8)) / 2) - 2 * Math.log(0.5 * Math.sqrt(2 * Math.PI)), 14);
    expect(b[0]).toBeCloseTo(Math.log((1 + Math.exp(-0.5)) / 2) - 2 * Math.log(2 * Math.sqrt(2 * Math.PI)), 14);
  });

  it('stays finite far from every sample (log-sum-exp) and does not depend on the batch size', () => {
    // x = 1000, sample 0, sigma 0.1: exactly -1e6 / 0.02 - log(0.1 sqrt(2 pi)), where exp() alone underflows.
    const [far] = parzenLogDensities([[0]], [[1000]], [0.1]);
    expect(far[0]).toBeCloseTo(-5e7 - Math.log(0.1 * Math.sqrt(2 * Math.PI)), 6);
    const p = createPrng(2);
    const rows = (n: number): number[][] => Array.from({ length: n }, () => [p.nextNormal(), p.nextNormal(), p.nextNormal()]);
    const samples = rows(37);
    const points = rows(21);
    const one = parzenLogDensities(samples, points, [0.3, 1], 1);
    const many = parzenLogDensities(samples, points, [0.3, 1], 16);
    for (let j = 0; j < 2; j++) for (let i = 0; i < 21; i++) expect(many[j][i]).toBeCloseTo(one[j][i], 12);
  });
});

describe('parzenLogLikelihood', () => {
  it("uses the paper code's grid 10^linspace(-1, 0, 10) by default", () => {
    expect(defaultParzenSigmas).toHaveLength(10);
    expect(defaultParzenSigmas[0]).toBeCloseTo(0.1, 15);
    expect(defaultParzenSigmas[9]).toBeCloseTo(1, 15);
    expect(defaultParzenSigmas[1]).toBeCloseTo(10 ** (-8 / 9), 15);
    expect(logSpace(0, 2, 3)).toEqual([1, 10, 100]);
  });

  it('picks sigma by the validation mean and reports the test mean and std / sqrt(n)', () => {
    // Samples {0, 1}; validation {0, 1}; test {0.5, 3}; sigmas 0.1, 1, 10.
    const samples = [[0], [1]];
    const ll = (x: number, s: number): number =>
      Math.log((Math.exp(-(x * x) / (2 * s * s)) + Math.exp(-((x - 1) ** 2) / (2 * s * s))) / 2) - Math.log(s * Math.sqrt(2 * Math.PI));
    const sigmas = [0.1, 1, 10];
    // Validation points sit on the samples, so by symmetry both have the same log-likelihood.
    const valid = sigmas.map((s) => (ll(0, s) + ll(1, s)) / 2);
    const best = valid.indexOf(Math.max(...valid));
    const r = parzenLogLikelihood(samples, [[0], [1]], [[0.5], [3]], { sigmas });
    expect(r.validation.map((v) => v.mean)).toEqual(valid.map((v) => expect.closeTo(v, 12)));
    expect(r.sigma).toBe(sigmas[best]);
    // With sigma 0.1 each validation point gets about half the mass of a narrow Gaussian: the best here.
    expect(r.sigma).toBe(0.1);
    const t = [ll(0.5, 0.1), ll(3, 0.1)];
    const mean = (t[0] + t[1]) / 2;
    expect(r.mean).toBeCloseTo(mean, 10);
    // Population std of two values is half their gap; over sqrt(2).
    expect(r.stdErr).toBeCloseTo(Math.abs(t[0] - t[1]) / 2 / Math.SQRT2, 8);
  });

  it('rejects mismatched widths and bad sigmas', () => {
    expect(() => parzenLogLikelihood([[0, 1]], [[0]], [[0, 1]])).toThrow('validation: expected rows of 2 values like the samples, got 1');
    expect(() => parzenLogLikelihood([[0]], [[0]], [[0]], { sigmas: [0.1, -1] })).toThrow('sigmas: expected positive numbers, got -1');
    expect(() => parzenLogLikelihood([[0]], [[0]], [[0]], { sigmas: [] })).toThrow('expected at least one, got none');
  });
});
