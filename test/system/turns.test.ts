import { describe, expect, it } from 'vitest';
import { ownTurn } from '../../src/system/turns';

describe('ownTurn', () => {
  it('resumes callers oldest first, two a turn, with other callbacks of the event loop running between turns', async () => {
    const order: string[] = [];
    const callers = Array.from({ length: 6 }, (_, i) => ownTurn().then(() => order.push(`caller ${i}`)));
    // Queued now, as I/O would be: it runs between the first turn's callers and the next turn's.
    setImmediate(() => order.push('other'));
    await Promise.all(callers);
    expect(order.filter((o) => o.startsWith('caller'))).toEqual(['caller 0', 'caller 1', 'caller 2', 'caller 3', 'caller 4', 'caller 5']);
    const other = order.indexOf('other');
    expect(other).toBeGreaterThanOrEqual(2);
    expect(other).toBeLessThanOrEqual(4);
  });

  it('needs nothing else to keep going: a lone caller resolves', async () => {
    await expect(ownTurn()).resolves.toBeUndefined();
  });
});
