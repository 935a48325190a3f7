/**
 * When the converge loop starts its next step. Pure: the loop feeds it the request times it saw.
 *
 * A lone request (nothing else pending, and the request before it long enough ago) is served at
 * once: one service changing state is not delayed at all. Requests that come close together are
 * a burst (many checks deciding in the same wave, e.g. a shared dependency failing): checks that
 * started together finish spread out over tens to hundreds of milliseconds, and serving each
 * decision with its own reconfigure would run BIRD's `configure` dozens of times (the Python
 * daemon's issue #30). A burst is served once it has been quiet for `quietMs`, and never later
 * than `maxHoldMs` after the first request the step will serve, so a storm that never ends is
 * still applied at a bounded pace.
 *
 * When the last step was slow (`slowStepMs`: a router-sized BIRD takes 150 ms and more per
 * `configure`), a lone request is held like a burst's first: served at once, the first decision
 * of a wave makes the rest of the wave wait for its slow configure and then take another, two
 * slow configures per wave; held for `quietMs`, the wave takes one, and its last decision is
 * applied sooner too. A service failing alone then waits `quietMs` more, next to a configure
 * several times as long (docs/design.md, "Router-sized BIRD and BIRD 3").
 */
export interface GatherPolicy {
  /** A request at least this long after the one before it (and alone) is lone: served at once. */
  readonly burstGapMs: number;
  /** In a burst, the step starts once no request came for this long ... */
  readonly quietMs: number;
  /** ... and at the latest this long after the first request it serves. */
  readonly maxHoldMs: number;
  /** A lone request is gathered like a burst's when the last step took at least this long (unset: never). */
  readonly slowStepMs?: number;
}

/**
 * Defaults for BIRD reconfiguration. quietMs bounds what a burst adds after its last decision;
 * the coalesce benchmark's target is 3 x one `birdc configure` + 100 ms from the last decision
 * until the peer has lost the routes, and BGP needs about 11 ms of that here.
 */
export const RECONFIGURE_GATHER: GatherPolicy = { burstGapMs: 250, quietMs: 40, maxHoldMs: 1000, slowStepMs: 100 };

/** The loop serves every request at once (the tests of the plain loop use it). */
export const NO_GATHER: GatherPolicy = { burstGapMs: 0, quietMs: 0, maxHoldMs: 0 };

/** Requests not served by a step yet, on one monotonic clock in milliseconds. */
export interface PendingRequests {
  /** The first request the next step will serve. */
  readonly firstAtMs: number;
  /** The latest request. */
  readonly lastAtMs: number;
  /** How many requests are pending (at least 1). */
  readonly count: number;
  /** The latest request an earlier step already served (or is serving), null if none. */
  readonly previousAtMs: number | null;
}

/** True when the pending request is alone, far enough from the one before it, and the last step
 * (`lastStepMs`, null before the first) was not slow. */
export function isLone(pending: PendingRequests, policy: GatherPolicy, lastStepMs: number | null = null): boolean {
  if (pending.count !== 1) return false;
  if (policy.slowStepMs !== undefined && lastStepMs !== null && lastStepMs >= policy.slowStepMs) return false;
  return pending.previousAtMs === null || pending.firstAtMs - pending.previousAtMs >= policy.burstGapMs;
}

/** The time at which the next step should start; a time not after now means now. */
export function nextStepAt(pending: PendingRequests, policy: GatherPolicy, lastStepMs: number | null = null): number {
  if (isLone(pending, policy, lastStepMs)) return pending.firstAtMs;
  return Math.min(pending.lastAtMs + policy.quietMs, pending.firstAtMs + policy.maxHoldMs);
}
