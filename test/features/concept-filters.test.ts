import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/data/prng';
import { conceptFilters } from '../../src/features/concept-filters';

describe('conceptFilters', () => {
  it('ranks first the filters that are high when the concept is present', () => {
    // 6 filters, 150 samples with unit noise: filter 4 is +2 with the concept, filter 1 +1, filter 2 is -2 (anti),
    // the rest noise. Expect filters 4 then 1 with positive weights, 2 never.
    const prng = createPrng(3);
    const activations: Float64Array[] = [];
    const isConcept: boolean[] = [];
    for (let i = 0; i < 150; i++) {
      const concept = i % 3 === 0;
      const row = Float64Array.from({ length: 6 }, () => prng.nextNormal());
      if (concept) {
        row[4] += 2;
        row[1] += 1;
        row[2] -= 2;
      }
      activations.push(row);
      isConcept.push(concept);
    }
    const result = conceptFilters(activations, isConcept, 2, { seed: 0 });
    expect(result.filters.map((f) => f.filter)).toEqual([4, 1]);
    expect(result.filters[0].weight).toBeGreaterThan(result.filters[1].weight);
    expect(result.filters[1].weight).toBeGreaterThan(0);
    const all = conceptFilters(activations, isConcept, 6, { seed: 0 });
    expect(all.filters.map((f) => f.filter)).not.toContain(2);
    expect(all.positive).toBe(all.filters.length);
  });

  it('needs both labels and a positive count', () => {
    expect(() => conceptFilters([[1], [2]], [true, true], 1, { seed: 0 })).toThrow(/both of the concept and not, got 2 of 2/);
    expect(() => conceptFilters([[1], [2]], [true, false], 0, { seed: 0 })).toThrow(/count/);
  });
});
