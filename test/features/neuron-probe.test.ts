import { describe, expect, it } from 'vitest';
import { balancedProbeSet, bestThreshold, probeNeurons, topActivating } from '../../src/features/neuron-probe';

describe('balancedProbeSet', () => {
  it('takes every positive and as many seeded negatives, no repeats', () => {
    const labels = [3, 1, 3, 0, 2, 3, 1, 2, 0, 4];
    const probe = balancedProbeSet(labels, 3, 11);
    expect(probe.positives).toBe(3);
    expect(Array.from(probe.indices.subarray(0, 3))).toEqual([0, 2, 5]);
    const negatives = Array.from(probe.indices.subarray(3));
    expect(negatives).toHaveLength(3);
    expect(new Set(negatives).size).toBe(3);
    for (const i of negatives) expect(labels[i]).not.toBe(3);
    expect(Array.from(probe.isPositive)).toEqual([1, 1, 1, 0, 0, 0]);
    // Seeded: same seed, same draw; another seed draws differently somewhere over a few seeds.
    expect(Array.from(balancedProbeSet(labels, 3, 11).indices)).toEqual(Array.from(probe.indices));
    const draws = new Set([1, 2, 3, 4, 5].map((s) => Array.from(balancedProbeSet(labels, 3, s).indices).join()));
    expect(draws.size).toBeGreaterThan(1);
  });

  it('uses every other example when there are fewer than the positives, and refuses an absent concept', () => {
    const probe = balancedProbeSet([1, 1, 1, 0], 1, 0);
    expect(Array.from(probe.indices)).toEqual([0, 1, 2, 3]);
    expect(() => balancedProbeSet([0, 1], 5, 0)).toThrow(/concept 5, got none/);
  });
});

describe('bestThreshold', () => {
  it('finds the hand-computed best threshold', () => {
    // values:   0.1 0.4 0.35 0.8 0.7 0.2
    // positive:  0   1    0   1   1   0
    // t = 0.4: positives >= 0.4 are 0.4, 0.8, 0.7 (3 of 3), negatives < 0.4 are 0.1, 0.35, 0.2 (3 of 3) -> 6/6.
    expect(bestThreshold([0.1, 0.4, 0.35, 0.8, 0.7, 0.2], [0, 1, 0, 1, 1, 0])).toEqual({ threshold: 0.4, accuracy: 1 });
    // Overlap: values 1 2 3 4 with labels 0 1 0 1. Candidates (t: correct): inf: 2, 4: 3, 3: 2, 2: 3, 1: 2.
    // Best 3/4, the highest t of the tie is 4.
    expect(bestThreshold([1, 2, 3, 4], [0, 1, 0, 1])).toEqual({ threshold: 4, accuracy: 0.75 });
  });

  it('treats tied values together and can say "none is positive"', () => {
    // Tied 5s with labels 1 and 0: t = 5 gets both as positive. Candidates: inf: 2/4 (two negatives);
    // 5: 1 + 1 (neg 1 below) = 2/4 -> no gain; 1: ... labels [1, 0, 0, 1] values [5, 5, 1, 1]
    // t = 1: all positive -> 2/4. Ties keep the highest: inf.
    expect(bestThreshold([5, 5, 1, 1], [1, 0, 0, 1])).toEqual({ threshold: Infinity, accuracy: 0.5 });
    // A neuron that fires for negatives: the best is to call nothing positive (the >= rule has one polarity).
    expect(bestThreshold([9, 8, 1, 2], [0, 0, 1, 1])).toEqual({ threshold: Infinity, accuracy: 0.5 });
  });
});

describe('probeNeurons', () => {
  it('scores every neuron and sorts best first', () => {
    // Neuron 0 separates perfectly, neuron 1 at 3/4, neuron 2 is constant (1/2).
    const rows = [
      [0.9, 1, 7],
      [0.8, 4, 7],
      [0.1, 2, 7],
      [0.2, 3, 7],
    ];
    const scores = probeNeurons(rows, [1, 1, 0, 0]);
    expect(scores.map((s) => [s.neuron, s.accuracy, s.threshold])).toEqual([
      [0, 1, 0.8],
      [1, 0.75, 4],
      [2, 0.5, Infinity],
    ]);
  });

  it('lists the top-activating rows of a neuron', () => {
    expect(
      topActivating(
        [
          [1, 5],
          [3, 0],
          [2, 5],
        ],
        1,
        2,
      ),
    ).toEqual([
      { index: 0, activation: 5 },
      { index: 2, activation: 5 },
    ]);
  });
});
