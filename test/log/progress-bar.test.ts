import { describe, expect, it } from 'vitest';
import { formatSeconds, progressBar } from '../../src/log/progress-bar';

describe('formatSeconds', () => {
  it('rounds before splitting into minutes and hours', () => {
    expect(formatSeconds(359.6)).toBe('6m00s');
    expect(formatSeconds(59.5)).toBe('1m00s');
    expect(formatSeconds(42.2)).toBe('42s');
    expect(formatSeconds(65)).toBe('1m05s');
    expect(formatSeconds(3725)).toBe('1h02m05s');
    expect(formatSeconds(Infinity)).toBe('?');
  });
});

describe('progressBar', () => {
  it('fills in proportion and clamps', () => {
    expect(progressBar(0, 4, 4)).toBe('[....]');
    expect(progressBar(2, 4, 4)).toBe('[##..]');
    expect(progressBar(9, 4, 4)).toBe('[####]');
    expect(progressBar(1, 0, 4)).toBe('[....]');
  });
});
