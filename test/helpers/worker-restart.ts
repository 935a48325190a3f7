// Watching the daemon's watchdog replace a check thread, through the status socket: poll until a
// service's worker is `running` again on a new thread, with its restart count increased and a
// fresh heartbeat.
import { pollUntil } from './poll.js';
import { serviceOf, type ServiceView, type StatusConnection, type StatusView, type WorkerStateName } from './status-client.js';

/** One status reply and when it arrived. */
export interface StatusSample {
  /** performance.now() when the reply was read. */
  readonly at: number;
  /** Date.now() when the reply was read (comparable with the daemon's log timestamps). */
  readonly wall: number;
  readonly view: StatusView;
}

export interface ReplacementOptions {
  readonly timeoutMs: number;
  /** Pause between status requests (default 20 ms). */
  readonly intervalMs?: number;
  /** A heartbeat older than this is not the replacement's first (default 500 ms; heartbeats come every 1 s). */
  readonly freshHeartbeatMs?: number;
  /** Worker states that count as "replaced" (default: running only; add 'failed' for a thread that keeps dying). */
  readonly states?: readonly WorkerStateName[];
  /** Called with every reply, the last one included (for per-poll assertions). */
  readonly onSample?: (sample: StatusSample) => void;
}

/**
 * True when `now` shows the worker of `before`'s service replaced: in one of `states` (running),
 * restarts above `before`'s, another thread id, and a heartbeat younger than `freshHeartbeatMs`.
 */
export function isReplaced(
  before: ServiceView,
  now: ServiceView,
  freshHeartbeatMs = 500,
  states: readonly WorkerStateName[] = ['running'],
): boolean {
  const w = now.worker;
  return (
    states.includes(w.state) &&
    w.restarts > before.worker.restarts &&
    w.threadId !== null &&
    w.threadId !== before.worker.threadId &&
    w.lastHeartbeatAgeMs !== null &&
    w.lastHeartbeatAgeMs <= freshHeartbeatMs
  );
}

/** Poll the status until the service's worker is replaced; resolves to the first reply showing it. */
export async function waitForReplacement(
  connection: StatusConnection,
  before: ServiceView,
  options: ReplacementOptions,
): Promise<StatusSample> {
  let last: ServiceView | undefined;
  return pollUntil(
    async () => {
      const view = await connection.status();
      const sample: StatusSample = { at: performance.now(), wall: Date.now(), view };
      options.onSample?.(sample);
      last = serviceOf(view, before.name);
      return isReplaced(before, last, options.freshHeartbeatMs, options.states) ? sample : undefined;
    },
    {
      what: `the worker of ${before.name} (thread ${before.worker.threadId}, ${before.worker.restarts} restarts) to be replaced and ${(options.states ?? ['running']).join(' or ')}`,
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs ?? 20,
      describe: () => (last === undefined ? 'no status reply' : JSON.stringify(last.worker)),
    },
  );
}

/**
 * Wall-clock time (ms) of the replacement's first heartbeat as `sample` reports it: the reply's
 * arrival minus the heartbeat's age. Off by the reply's transit time (well under a millisecond).
 */
export function heartbeatWallTime(sample: StatusSample, service: string): number {
  const age = serviceOf(sample.view, service).worker.lastHeartbeatAgeMs;
  if (age === null) throw new Error(`${service} has no heartbeat in this sample`);
  return sample.wall - age;
}
