import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextTick } from '../src/schedule';

describe('drift-free schedule', () => {
  it('ticks at anchor + k × interval regardless of how long a check took', () => {
    expect(nextTick(1000, 100, 1000)).toBe(1100);
    expect(nextTick(1000, 100, 1037)).toBe(1100);
    expect(nextTick(1000, 100, 1099)).toBe(1100);
  });

  it('skips ticks a long check overran instead of running them in a burst', () => {
    expect(nextTick(1000, 100, 1250)).toBe(1300);
  });

  it('waits for the anchor when it lies in the future (splay)', () => {
    expect(nextTick(5000, 100, 1000)).toBe(5000);
  });

  it('always returns a tick of the grid strictly after now (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 1e9 }),
        (anchor, interval, offset) => {
          const now = anchor + offset;
          const t = nextTick(anchor, interval, now);
          expect(t).toBeGreaterThan(now);
          expect(t - now).toBeLessThanOrEqual(interval);
          expect((t - anchor) % interval).toBe(0);
        },
      ),
    );
  });
});
