import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { INITIAL_COUNTERS } from '@ahc/protocol';
import type { CheckCounters } from '@ahc/protocol';
import { recordCheck, recordIpUnassigned } from '../src/rise-fall';

const limits = { rise: 2, fail: 3 };

function run(results: boolean[], l = limits, start: CheckCounters = INITIAL_COUNTERS) {
  let c = start;
  const transitions: Array<'up' | 'down'> = [];
  for (const ok of results) {
    const step = recordCheck(c, ok, l);
    c = step.counters;
    if (step.transition !== null) transitions.push(step.transition);
  }
  return { counters: c, transitions };
}

describe('rise/fall machine', () => {
  it('starts unknown and stays unknown until rise successes in a row', () => {
    expect(run([true]).counters.state).toBe('unknown');
    expect(run([true, true]).transitions).toEqual(['up']);
  });

  it('decides DOWN from unknown after fail failures in a row', () => {
    expect(run([false, false]).transitions).toEqual([]);
    expect(run([false, false, false]).transitions).toEqual(['down']);
  });

  it('needs consecutive results: a success resets the failure count and vice versa', () => {
    expect(run([true, true, false, false, true, false, false]).transitions).toEqual(['up']);
    expect(run([false, false, true, false, false, false]).transitions).toEqual(['down']);
  });

  it('reports a transition only when the decided state changes', () => {
    expect(run([true, true, true, true, true]).transitions).toEqual(['up']);
    expect(run([true, true, false, false, false, false, false]).transitions).toEqual(['up', 'down']);
  });

  it('with rise = 1 the first success decides UP', () => {
    expect(run([true], { rise: 1, fail: 1 }).transitions).toEqual(['up']);
  });

  it('continues from the counters it is given (a restarted worker causes no transition)', () => {
    const up: CheckCounters = { state: 'up', rise: 2, fail: 0 };
    expect(run([true, true], limits, up).transitions).toEqual([]);
    expect(run([false, false], limits, up).transitions).toEqual([]);
  });

  it('an unassigned prefix is DOWN at once, without counting failures', () => {
    const up: CheckCounters = { state: 'up', rise: 2, fail: 0 };
    const step = recordIpUnassigned(up);
    expect(step.transition).toBe('down');
    expect(recordIpUnassigned(step.counters).transition).toBeNull();
    // after coming back it needs rise successes again
    expect(run([true], limits, step.counters).transitions).toEqual([]);
    expect(run([true, true], limits, step.counters).transitions).toEqual(['up']);
  });

  it('an unassigned prefix leaves the failure count alone: one failure after it is "going down 1/F"', () => {
    const failing: CheckCounters = { state: 'up', rise: 0, fail: 1 };
    expect(recordIpUnassigned(failing).counters).toEqual({ state: 'down', rise: 0, fail: 1 });
    const fresh = recordIpUnassigned({ state: 'unknown', rise: 1, fail: 0 }).counters;
    expect(fresh).toEqual({ state: 'down', rise: 0, fail: 0 });
    expect(recordCheck(fresh, false, { rise: 2, fail: 2 }).counters).toEqual({ state: 'down', rise: 0, fail: 1 });
  });

  it('matches a reference model on any sequence of results (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (results, rise, fail) => {
          const got = run(results, { rise, fail }).transitions;
          // model: the state is decided by the last run of identical results reaching its threshold
          const expected: Array<'up' | 'down'> = [];
          let state: 'up' | 'down' | 'unknown' = 'unknown';
          let streak = 0;
          let last: boolean | null = null;
          for (const ok of results) {
            streak = ok === last ? streak + 1 : 1;
            last = ok;
            const next: 'up' | 'down' | 'unknown' = ok ? (streak >= rise ? 'up' : state) : streak >= fail ? 'down' : state;
            if (next !== state && next !== 'unknown') expected.push(next);
            state = next;
          }
          expect(got).toEqual(expected);
        },
      ),
    );
  });
});
