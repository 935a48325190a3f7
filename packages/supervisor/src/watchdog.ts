import type { ServiceCheckSpec } from '@ahc/protocol';

/**
 * The watchdog's rules, pure. A thread is alive when its heartbeats arrive (its event loop
 * turns) and each of its check loops makes progress (posts results). Limits scale with the
 * checks' own timing, so a check every 5 minutes is not declared stuck after 10 seconds.
 */
export const HEARTBEAT_INTERVAL_MS = 1000;
/** No heartbeat for this long: the thread is spinning or blocked. */
export const HEARTBEAT_TIMEOUT_MS = 3000;
/** A new thread must say hello (first heartbeat) within this time. */
export const START_TIMEOUT_MS = 5000;
/** Crashes in a row, each within STABLE_RUN_MS of its start, that mark the thread's services failed. */
export const FAILED_AFTER_CRASHES = 5;
/** A thread that ran this long is stable: its next crash counts as the first again, and a failed
 * thread that runs this long (and posts a result) has recovered. */
export const STABLE_RUN_MS = 5000;
export const RESTART_BACKOFF = { baseMs: 100, capMs: 30_000 };

/** How long a check loop may go without posting a result. */
export function progressLimitMs(spec: ServiceCheckSpec): number {
  return 2 * (spec.intervalMs + spec.timeoutMs) + spec.splayMs + 5000;
}

/** Delay before restart number `crashes` (1-based): the first restart is immediate. */
export function restartDelayMs(crashes: number): number {
  if (crashes <= 1) return 0;
  return Math.min(RESTART_BACKOFF.baseMs * 2 ** (crashes - 2), RESTART_BACKOFF.capMs);
}

export type ThreadVerdict = { ok: true } | { ok: false; reason: string };

export interface ThreadObservation {
  readonly now: number;
  readonly startedAt: number;
  /** null until the first heartbeat. */
  readonly lastHeartbeat: number | null;
  readonly loops: ReadonlyArray<{ spec: ServiceCheckSpec; lastProgress: number }>;
}

export function judgeThread(o: ThreadObservation): ThreadVerdict {
  if (o.lastHeartbeat === null) {
    return o.now - o.startedAt > START_TIMEOUT_MS
      ? { ok: false, reason: `did not start within ${START_TIMEOUT_MS} ms` }
      : { ok: true };
  }
  const silence = o.now - o.lastHeartbeat;
  if (silence > HEARTBEAT_TIMEOUT_MS) return { ok: false, reason: `sent no heartbeat for ${silence} ms (busy or blocked)` };
  for (const loop of o.loops) {
    const idle = o.now - loop.lastProgress;
    const limit = progressLimitMs(loop.spec);
    if (idle > limit) return { ok: false, reason: `check loop of ${loop.spec.name} made no progress for ${idle} ms (limit ${limit} ms)` };
  }
  return { ok: true };
}
