import type { ServiceCheckSpec } from '@ahc/protocol';

/**
 * The watchdog's rules, pure. A thread is alive when its heartbeats arrive (its event loop
 * turns) and each of its check loops makes progress (posts results). Limits scale with the
 * checks' own timing, so a check every 5 minutes is not declared stuck after 10 seconds. The
 * threads beat every HEARTBEAT_INTERVAL_MS (@ahc/protocol).
 */
/** No heartbeat for this long while the thread's event loop is busy: it is spinning. */
export const HEARTBEAT_TIMEOUT_MS = 3000;
/** Share of the silent time the thread's event loop was busy, above which it counts as spinning. */
export const BUSY_SHARE = 0.8;
/** No heartbeat for this long whatever the thread does: it is blocked (or starved beyond use). */
export const SILENCE_LIMIT_MS = 30_000;
/** A new thread must say hello (first heartbeat) within this time. */
export const START_TIMEOUT_MS = 5000;
/** Crashes in a row, each within STABLE_RUN_MS of its start, that mark the thread's services failed. */
export const FAILED_AFTER_CRASHES = 5;
/** A thread that ran this long is stable: its next crash counts as the first again, and a failed
 * thread that runs this long (and posts a result) has recovered. */
export const STABLE_RUN_MS = 5000;

/** How long a check loop may go without posting a result. */
export function progressLimitMs(spec: ServiceCheckSpec): number {
  return 2 * (spec.intervalMs + spec.timeoutMs) + spec.splayMs + 5000;
}

/** Which rule condemned a thread, for status and metrics to count. */
export type WatchdogKind = 'no-start' | 'spinning' | 'blocked' | 'no-progress';

export type ThreadVerdict = { ok: true } | { ok: false; kind: WatchdogKind; reason: string };

export interface ThreadObservation {
  readonly now: number;
  readonly startedAt: number;
  /** null until the first heartbeat. */
  readonly lastHeartbeat: number | null;
  /**
   * Event-loop utilisation of the thread since its last heartbeat (0..1), when known. A thread
   * that is silent but idle is starved of CPU (many threads on few cores), not broken: killing
   * it would only add load.
   */
  readonly busyShare?: number | null;
  readonly loops: ReadonlyArray<{ spec: ServiceCheckSpec; lastProgress: number }>;
}

export function judgeThread(o: ThreadObservation): ThreadVerdict {
  if (o.lastHeartbeat === null) {
    return o.now - o.startedAt > START_TIMEOUT_MS
      ? { ok: false, kind: 'no-start', reason: `did not start within ${START_TIMEOUT_MS} ms` }
      : { ok: true };
  }
  const silence = Math.round(o.now - o.lastHeartbeat);
  const busy = o.busyShare === undefined || o.busyShare === null || o.busyShare >= BUSY_SHARE;
  if (silence > HEARTBEAT_TIMEOUT_MS && busy)
    return { ok: false, kind: 'spinning', reason: `sent no heartbeat for ${silence} ms while its event loop was busy (spinning)` };
  if (silence > SILENCE_LIMIT_MS) return { ok: false, kind: 'blocked', reason: `sent no heartbeat for ${silence} ms (blocked)` };
  for (const loop of o.loops) {
    const idle = Math.round(o.now - loop.lastProgress);
    const limit = progressLimitMs(loop.spec);
    if (idle > limit)
      return {
        ok: false,
        kind: 'no-progress',
        reason: `check loop of ${loop.spec.name} made no progress for ${idle} ms (limit ${limit} ms)`,
      };
  }
  return { ok: true };
}
