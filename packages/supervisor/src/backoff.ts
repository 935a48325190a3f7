/** Capped exponential backoff: base, 2×base, 4×base … up to cap. Pure. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const RECONFIGURE_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 5000 };

export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  if (attempt <= 0) return 0;
  const exp = policy.baseMs * 2 ** Math.min(attempt - 1, 30);
  return Math.min(exp, policy.capMs);
}
