/** Capped exponential backoff: base, 2×base, 4×base … up to cap. Pure. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** A failed BIRD update: 250 ms doubling to 5 s (docs/design.md). */
export const RECONFIGURE_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 5000 };
/** A crashed check thread: after the first (immediate) restart, 100 ms doubling to 30 s
 * (docs/status-and-watchdog.md). Attempt n is the restart after crash n + 1. */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 30_000 };

/** The delay before attempt `attempt` (1-based); attempt 0 (or less) goes at once. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  if (attempt <= 0) return 0;
  const exp = policy.baseMs * 2 ** Math.min(attempt - 1, 30);
  return Math.min(exp, policy.capMs);
}
