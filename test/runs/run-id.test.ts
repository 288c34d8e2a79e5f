import { describe, expect, it } from 'vitest';
import { createUuidV7Generator } from '../../src/runs/run-id';

describe('UUIDv7 run ids', () => {
  it('are RFC 9562 version 7 with the timestamp in front', () => {
    const id = createUuidV7Generator(() => 0x0123456789ab)();
    expect(id).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sort in creation order even within one millisecond and when the clock steps back', () => {
    const times = [1000, 1000, 1000, 999, 1001, 1001];
    let i = 0;
    const next = createUuidV7Generator(() => times[i++]);
    const ids = times.map(() => next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('borrow the next millisecond when 4096 ids share one', () => {
    const next = createUuidV7Generator(() => 5);
    const ids = Array.from({ length: 5000 }, next);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[4999].slice(0, 13)).toBe('00000000-0006');
  });
});
