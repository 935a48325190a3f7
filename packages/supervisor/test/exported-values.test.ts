import { describe, expect, it } from 'vitest';
import type { ResultMessage } from '@ahc/protocol';
import { recordCheck, recordIpUnassigned } from '@ahc/checks';
import type { CheckCounters } from '@ahc/protocol';
import { exportResult, NO_EXPORTED_VALUES } from '../src/exported-values';
import type { ExportedValues } from '../src/exported-values';

/** A check outcome: exit code, 'timeout', or 'unassigned' (the address is not on the interface). */
type Outcome = number | 'timeout' | 'unassigned' | 'SIGKILL';

const rules = { rise: 2, fail: 2, ipCheckDisabled: false };

/** Runs the outcomes through the rise/fall machine and the export rules, as the daemon does. */
function run(outcomes: Outcome[], r = rules): ExportedValues[] {
  let counters: CheckCounters = { state: 'unknown', rise: 0, fail: 0 };
  let values = NO_EXPORTED_VALUES;
  const seen: ExportedValues[] = [];
  outcomes.forEach((o, i) => {
    const ok = o === 0;
    const step = o === 'unassigned' ? recordIpUnassigned(counters) : recordCheck(counters, ok, r);
    counters = step.counters;
    const result: ResultMessage = {
      type: 'result',
      service: 's',
      ok,
      counters,
      finishedAt: 0,
      exitCode: typeof o === 'number' ? o : null,
      timedOut: o === 'timeout',
      signal: o === 'SIGKILL' ? 'SIGKILL' : null,
      ipAssigned: o !== 'unassigned',
      durationMs: o === 'timeout' || o === 'unassigned' ? 0 : 10 + i,
    };
    values = exportResult(values, result, r, 1000 + i);
    seen.push(values);
  });
  return seen;
}

const states = (v: ExportedValues[]) => v.map((x) => x.stateValue);

describe('textfile values per check (as the Python daemon sets them)', () => {
  it('service_state: set at decisions only; unchanged by going up / going down', () => {
    // up (2), one failure while UP, success, down (2), one success while DOWN, failure, up again (2)
    expect(states(run([0, 0, 1, 0, 1, 1, 0, 3, 0, 0]))).toEqual([null, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
  });

  it('service_state is the deciding exit code, every failure from fail on', () => {
    expect(states(run([4, 5, 6]))).toEqual([null, 5, 6]);
  });

  it('a timed-out check decides 126 and counts; duration is left as it was', () => {
    const v = run([0, 0, 'timeout', 'timeout']);
    expect(states(v)).toEqual([null, 0, 0, 126]);
    expect(v.map((x) => x.timeouts)).toEqual([0, 0, 1, 2]);
    expect(v.map((x) => x.timeoutsCreatedAt)).toEqual([null, null, 1002, 1002]);
    expect(v.map((x) => x.durationMs)).toEqual([10, 11, 11, 11]);
  });

  it('a check killed by a signal decides minus the signal number', () => {
    expect(states(run(['SIGKILL', 'SIGKILL']))).toEqual([null, -9]);
  });

  it('an unassigned address sets 1 and ip_assignment 0 at every such check', () => {
    const v = run(['unassigned', 'unassigned', 0, 0, 'unassigned']);
    expect(states(v)).toEqual([1, 1, 1, 0, 1]);
    expect(v.map((x) => x.ipAssigned)).toEqual([false, false, true, true, false]);
    expect(v.map((x) => x.durationMs)).toEqual([null, null, 12, 13, 13]);
  });

  it('no ip_assignment sample when the interface check is disabled', () => {
    const v = run([0, 0], { ...rules, ipCheckDisabled: true });
    expect(v.map((x) => x.ipAssigned)).toEqual([null, null]);
  });
});
