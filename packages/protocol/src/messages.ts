import { ERR } from '@ahc/errors';
import type { CheckCounters, LogLevel, ServiceCheckSpec, ServiceState } from './service-spec';

/** An error as it crosses a thread boundary (identity is lost, so code is what callers match). */
export interface SerializedError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly stack?: string;
}

// ---- main thread -> worker ----------------------------------------------------------------

export interface StartMessage {
  readonly type: 'start';
  /** Unused: messages on a MessagePort arrive in order and none is lost, so there is nothing
   * to detect. Still written by check-host.ts until its refactor drops it (docs/design.md). */
  readonly seq?: number;
  readonly service: string;
  readonly spec: ServiceCheckSpec;
  readonly counters: CheckCounters;
  /** Lowest level the main thread will log; the worker does not post below it. */
  readonly logLevel: LogLevel;
  /**
   * How the loop runs check_cmd: `host` posts a `spawn` and the main thread runs it through the
   * ahc-spawn helper; `self` spawns it from this thread (runCommand), when the helper is missing
   * or did not start (docs/design.md, "Spawning checks: the ahc-spawn helper").
   */
  readonly spawnVia: SpawnVia;
  /** Is the prefix on its interface, as the main thread's address watch knows it; null: the
   * loop reads getifaddrs at each check (docs/design.md, "Address checks: one kernel subscription"). */
  readonly ipAssigned: boolean | null;
}
/** The main thread's address watch changed its answer for `service` (only sent when it changes). */
export interface IpStateMessage {
  readonly type: 'ip-state';
  readonly service: string;
  /** null: no subscription any more, check with getifaddrs as before. */
  readonly assigned: boolean | null;
}
export type SpawnVia = 'host' | 'self';
export interface RunNowMessage {
  readonly type: 'run-now';
  /** Unused: messages on a MessagePort arrive in order and none is lost, so there is nothing
   * to detect. Still written by check-host.ts until its refactor drops it (docs/design.md). */
  readonly seq?: number;
  readonly service: string;
}
export interface StopMessage {
  readonly type: 'stop';
  /** Unused: messages on a MessagePort arrive in order and none is lost, so there is nothing
   * to detect. Still written by check-host.ts until its refactor drops it (docs/design.md). */
  readonly seq?: number;
  readonly service: string;
}
/** Test-only: make the thread fail in a given way. Honoured only by a worker started with
 * `workerData.faultInjection === true` (the daemon sets it only when AHC_FAULT_INJECTION=1). */
/** `malformed`: post messages that are not in the protocol (the host must report and drop them). */
export type FaultKind = 'throw' | 'exit' | 'busy-loop' | 'stall-loop' | 'malformed';
export interface FaultMessage {
  readonly type: 'fault';
  /** Unused: messages on a MessagePort arrive in order and none is lost, so there is nothing
   * to detect. Still written by check-host.ts until its refactor drops it (docs/design.md). */
  readonly seq?: number;
  readonly service: string;
  readonly kind: FaultKind;
}
/** What became of a check command: @ahc/command's CommandResult, as plain data. */
export interface SpawnResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly spawnError: { code: string; message: string } | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly durationMs: number;
}
/** The answer to a `spawn` of this thread (matched by `id`). */
export interface SpawnResultMessage {
  readonly type: 'spawn-result';
  readonly service: string;
  readonly id: number;
  readonly result: SpawnResult;
}
export type ToWorker = StartMessage | RunNowMessage | StopMessage | FaultMessage | SpawnResultMessage | IpStateMessage;

// ---- worker -> main thread ----------------------------------------------------------------

export interface TransitionMessage {
  readonly type: 'transition';
  readonly service: string;
  readonly state: Exclude<ServiceState, 'unknown'>;
  /** `check`: rise/fail reached; `ip-unassigned`: the prefix left the interface. */
  readonly reason: 'check' | 'ip-unassigned';
  readonly counters: CheckCounters;
}
export interface ResultMessage {
  readonly type: 'result';
  readonly service: string;
  readonly ok: boolean;
  /** Exit code of the check (0 healthy); 127/126 when it could not start; null when killed. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** The signal that killed the check (other than at its timeout), when one did. */
  readonly signal?: string | null;
  readonly ipAssigned: boolean;
  readonly durationMs: number;
  /** Wall-clock time (ms since the epoch) the check ended: for people ("last check at"), never for timing. */
  readonly finishedAt: number;
  readonly counters: CheckCounters;
}
export interface LogMessage {
  readonly type: 'log';
  readonly service: string;
  readonly level: LogLevel;
  readonly message: string;
  /**
   * Set on the records that carry the service's fields (address, prefix length, status) in JSON
   * logs: the rise/fall records, `adding … in the queue` and `status DOWN because …`. It is the
   * decided state right after the check that logged it. Absent: the record has the service's
   * column but none of its fields (docs/log-records.md lists which records are which).
   */
  readonly status?: ServiceState;
}
/** A check worker posts a heartbeat this often (its event loop turns); the supervisor's watchdog
 * reads them (docs/status-and-watchdog.md). */
export const HEARTBEAT_INTERVAL_MS = 1000;
export interface HeartbeatMessage {
  readonly type: 'heartbeat';
  readonly service: string;
  readonly at: number;
}
export interface ErrorMessage {
  readonly type: 'error';
  readonly service: string;
  readonly error: SerializedError;
}
/** `spawnVia: 'host'`: run check_cmd for the loop of `service`; answered by one `spawn-result`
 * with the same id (ids are the thread's own). */
export interface SpawnRequestMessage {
  readonly type: 'spawn';
  readonly service: string;
  readonly id: number;
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}
/** The check was aborted (the loop stopped): kill its process group now. */
export interface SpawnCancelMessage {
  readonly type: 'spawn-cancel';
  readonly service: string;
  readonly id: number;
}
/** Worker → main. A worker posts what one turn produced as one array of these when there are several (worker-entry.ts). */
export type FromWorker =
  TransitionMessage | ResultMessage | LogMessage | HeartbeatMessage | ErrorMessage | SpawnRequestMessage | SpawnCancelMessage;

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      code: typeof code === 'string' ? code : ERR.AHC_INTERNAL,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { name: 'Error', code: ERR.AHC_INTERNAL, message: String(error) };
}
