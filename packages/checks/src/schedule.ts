/** Drift-free schedule: ticks at anchor + k × interval. After a check that overran one or more
 * ticks, the next check runs at the next tick still in the future (missed ticks are skipped,
 * never run in a burst). Pure. */
export function nextTick(anchor: number, intervalMs: number, now: number): number {
  if (now < anchor) return anchor;
  const elapsed = now - anchor;
  const k = Math.floor(elapsed / intervalMs) + 1;
  return anchor + k * intervalMs;
}
