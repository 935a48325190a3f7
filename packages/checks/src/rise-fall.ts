import type { CheckCounters } from '@ahc/protocol';

/** The rise/fall machine (docs/configuration.md, "Service checks"), pure. A service starts UNKNOWN; `rise` consecutive
 * successes make it UP, `fail` consecutive failures make it DOWN; a transition is reported only
 * when the decided state changes. */
export interface Thresholds {
  readonly rise: number;
  readonly fail: number;
}

export interface Step {
  readonly counters: CheckCounters;
  /** The new decided state when it changed, else null. */
  readonly transition: 'up' | 'down' | null;
}

export function recordCheck(current: CheckCounters, ok: boolean, limits: Thresholds): Step {
  if (ok) {
    const rise = Math.min(current.rise + 1, limits.rise);
    if (rise >= limits.rise) {
      return { counters: { state: 'up', rise, fail: 0 }, transition: current.state === 'up' ? null : 'up' };
    }
    return { counters: { state: current.state, rise, fail: 0 }, transition: null };
  }
  const fail = Math.min(current.fail + 1, limits.fail);
  if (fail >= limits.fail) {
    return { counters: { state: 'down', rise: 0, fail }, transition: current.state === 'down' ? null : 'down' };
  }
  return { counters: { state: current.state, rise: 0, fail }, transition: null };
}

/** The prefix is not on its interface: DOWN at once. The success count starts over; the failure
 * count is left as it was (the check command did not run), as the Python daemon does. */
export function recordIpUnassigned(current: CheckCounters): Step {
  return {
    counters: { state: 'down', rise: 0, fail: current.fail },
    transition: current.state === 'down' ? null : 'down',
  };
}
