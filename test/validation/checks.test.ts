import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/error-code';
import { expectFiniteVector, expectIntInRange } from '../../src/validation/checks';

describe('checks', () => {
  it('expectIntInRange accepts the bounds and names the value otherwise', () => {
    expect(() => expectIntInRange('count', 1, 1, 3)).not.toThrow();
    expect(() => expectIntInRange('count', 3, 1, 3)).not.toThrow();
    expect(() => expectIntInRange('count', 1.5, 1, 3)).toThrow('count: expected an integer in 1..3, got 1.5');
    expect(() => expectIntInRange('count', NaN, 1, 3)).toThrow('count: expected an integer in 1..3, got NaN');
    try {
      expectIntInRange('count', 4, 1, 3);
    } catch (error) {
      expect((error as { code: string }).code).toBe(ErrorCode.BAD_USER_INPUT);
    }
  });

  it('expectFiniteVector checks length, finiteness and float32 range', () => {
    expect(expectFiniteVector('z', [1, 2], 2)).toEqual(Float32Array.from([1, 2]));
    expect(() => expectFiniteVector('z', [1], 2)).toThrow("z: expected 2 numbers (the model's latent size), got 1");
    expect(() => expectFiniteVector('z', [1, NaN], 2)).toThrow('z[1]: expected a finite number, got NaN');
    expect(() => expectFiniteVector('z', [Infinity, 1], 2)).toThrow('z[0]: expected a finite number, got Infinity');
    expect(() => expectFiniteVector('z', [1, -1e39], 2)).toThrow('z[1]: expected a number within float32 range, got -1e+39');
  });
});
