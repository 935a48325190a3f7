/**
 * The status socket's protocol, version 1: one JSON object per line each way. A client sends
 * `{"version":1,"command":"status"}` and gets one reply line; it may send more requests on the
 * same connection. Every reply carries `version` and `ok`.
 */
import { ERR } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';
import type { Family } from '@ahc/protocol';

export const STATUS_PROTOCOL_VERSION = 1;
/** Longest request line accepted (bytes); longer ones get an error reply and the connection closes. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type WorkerStateName = 'starting' | 'running' | 'restarting' | 'failed' | 'disabled' | 'stopped';

export interface ServiceStatus {
  readonly name: string;
  /** `ip_prefix`: the prefix; with several, all of them joined by `, ` (each is in `prefixes`). */
  readonly prefix: string;
  /** The family of the (first) prefix. */
  readonly family: Family;
  /** With several prefixes only: each with its family and whether its file has it, in configured order. */
  readonly prefixes?: readonly { readonly prefix: string; readonly family: Family; readonly inBirdFile: boolean }[];
  readonly worker: {
    readonly state: WorkerStateName;
    readonly threadId: number | null;
    readonly lastHeartbeatAgeMs: number | null;
    readonly restarts: number;
    readonly lastExit: string | null;
    /** How its threads ended so far, by kind: `exit`, `throw`, `watchdog:spinning|blocked|no-progress|no-start`. */
    readonly exits?: Readonly<Record<string, number>>;
  };
  readonly state: 'up' | 'down' | 'unknown';
  readonly rise: number;
  readonly fail: number;
  readonly checks: number;
  readonly timeouts: number;
  readonly lastCheck: null | {
    readonly at: string;
    readonly ok: boolean;
    readonly exitCode: number | null;
    readonly durationMs: number;
    readonly timedOut: boolean;
    readonly ipAssigned: boolean;
  };
  /** Whether its check (or on_disabled) wants it advertised, drains aside, and whether the BIRD file has it now. */
  readonly advertise: boolean;
  /**
   * The drains that hold it (absent from daemons before drains; empty: not drained). While one
   * does, its prefix is withdrawn whatever `advertise` says.
   */
  readonly drains?: readonly DrainStatus[];
  /** Every prefix of the service is in its family's BIRD file now. */
  readonly inBirdFile: boolean;
  /**
   * The values the Prometheus textfile exports for it (docs/metrics.md): they change at
   * particular checks only (a decision, an unassigned address), not at every check.
   */
  readonly exported?: {
    readonly stateValue: number | null;
    readonly durationMs: number | null;
    readonly ipAssigned: boolean | null;
    readonly timeouts: number;
    readonly timeoutsCreatedAt: number | null;
  };
}

/** One drain of a service (docs/operations.md, "Draining a service"). */
export interface DrainStatus {
  /** `command`: anycast-healthchecker drain; `file`: the drain file. */
  readonly source: 'command' | 'file';
  /** It drains every service (`drain --all`, a drain file without names). */
  readonly all: boolean;
  readonly reason: string;
  /** When it began (ISO 8601). */
  readonly since: string;
  readonly ageSeconds: number;
}

/** The drain file, when `drain_file` is set. */
export interface DrainFileStatus {
  readonly path: string;
  /** `absent`: no drain; `all`: it drains every service; `services`: the ones it names. */
  readonly state: 'absent' | 'all' | 'services';
  readonly services: readonly string[];
  /** `events`: its directory is watched; `polling`: it cannot be (missing directory), so it is re-read every few seconds. */
  readonly watch: 'events' | 'polling';
  readonly lastProblem: string | null;
}

/** The state file of `state_dir`: whether a restart would find the decided states and the drains. */
export interface StateFileStatus {
  readonly path: string;
  /** `ok`: written at every change; `failing`: the last write failed; `disabled`: state_dir cannot be used. */
  readonly state: 'ok' | 'failing' | 'disabled';
  readonly writes: number;
  readonly failures: number;
  /** The last write that worked (ISO 8601), or null. */
  readonly lastWrite: string | null;
  /** The first failed write of the failures going on now (ISO 8601), or null. */
  readonly failingSince: string | null;
  readonly lastProblem: string | null;
}

export interface BirdStatus {
  readonly family: Family;
  readonly path: string;
  readonly variable: string;
  readonly reconfigureCommand: string;
  /** In the file now. */
  readonly prefixes: readonly string[];
  /** What the service states ask for (dummy first). */
  readonly desired: readonly string[];
  readonly lastReconfigureMs: number | null;
  /** What BIRD has applied after the last successful reconfigure (null: not since start). */
  readonly applied: readonly string[] | null;
  readonly reconfigureRuns: number;
  readonly reconfigureFailures: number;
  readonly pending: boolean;
  /** BIRD answered that it applies the last reconfigure in the background and has not said it is done yet. */
  readonly applying?: boolean;
  readonly lastApplied: string | null;
  readonly lastError: string | null;
  /** Failed convergence steps by kind since start (`reconfigure:timed-out`, `verify:mismatch`, `write`, …). */
  readonly failures?: Readonly<Record<string, number>>;
}

/** How check commands are started (docs/design.md, "Spawning checks: the ahc-spawn helper"). */
export interface SpawnHelperStatus {
  /** `host`: through the ahc-spawn helper; `self`: each check thread spawns (the helper is missing or did not start). */
  readonly via: 'host' | 'self';
  readonly reason: string;
  readonly binary: string | null;
  /** The rest only with `via: host`. `restarting`: it died and waits for its restart (checks run directly meanwhile). */
  readonly state?: 'running' | 'restarting' | 'stopped';
  readonly pid?: number | null;
  readonly restarts?: number;
  readonly inFlight?: number;
  /** Commands run directly because no helper was running (or it was full). */
  readonly fallbackRuns?: number;
  /** Commands run again because the helper died while it ran them. */
  readonly rerunsAfterDeath?: number;
  readonly lastExit?: string | null;
}

/** Where the interface checks' answers come from (docs/design.md, "Address checks: one kernel subscription"). */
export interface AddressStatus {
  /** `events`: from the monitor; `polling`: a dump every second while it is down;
   * `per-check`: each check reads getifaddrs; `starting`: before the first dump. */
  readonly source: 'starting' | 'events' | 'polling' | 'per-check';
  readonly ipPath: string | null;
  /** What the events come from: `ahc-spawn --watch-addresses`, or `ip -o monitor address` without the helper. */
  readonly monitor?: string;
  readonly monitorPid: number | null;
  readonly restarts: number;
  /** When the source became what it is (ISO). */
  readonly since: string;
  readonly lastProblem: string | null;
}

export interface DaemonStatus {
  readonly program: string;
  readonly version: string;
  /** The Node.js version the daemon runs on (`process.versions.node`); absent from older daemons. */
  readonly nodeVersion?: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly configFiles: readonly string[];
  readonly workerThreads: 'per-service' | number;
  readonly threads: number;
  readonly eventLoop: { readonly lagMs: number; readonly maxLagMs: number; readonly blocked: boolean };
  /** Absent from daemons older than the helper. */
  readonly spawnHelper?: SpawnHelperStatus;
  /** Absent from daemons before the address watch. */
  readonly addresses?: AddressStatus;
  /** The control socket of drain, undrain and reload (absent from daemons before it, or when it could not be created). */
  readonly controlSocket?: string;
  /** Absent without `drain_file`. */
  readonly drainFile?: DrainFileStatus;
  /** Absent from daemons before it, and during start-up until `state_dir` has been opened. */
  readonly stateFile?: StateFileStatus;
  readonly bird: readonly BirdStatus[];
}

export interface StatusReply {
  readonly version: typeof STATUS_PROTOCOL_VERSION;
  readonly ok: true;
  readonly daemon: DaemonStatus;
  readonly services: readonly ServiceStatus[];
}

export interface ErrorReply {
  readonly version: typeof STATUS_PROTOCOL_VERSION;
  readonly ok: false;
  readonly error: { readonly code: string; readonly message: string };
}

export interface PongReply {
  readonly version: typeof STATUS_PROTOCOL_VERSION;
  readonly ok: true;
  readonly pong: true;
}

export type StatusRequest =
  | { readonly command: 'status' }
  | { readonly command: 'ping' }
  | { readonly command: 'inject-fault'; readonly service: string; readonly kind: string };

/** Parse one request line; an error reply when it is not a request we know. */
/**
 * One request line of the status or the control socket: its JSON object, whose `version` (if
 * any) is `version`; or why not, as a code and message for the socket's own error reply.
 * `example` is the request the "not JSON" message suggests.
 */
export function requestObject(
  line: string,
  version: number,
  example: string,
):
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, code: ERR.AHC_STATUS_BAD_REQUEST, message: `the request is not JSON; send ${example}` };
  }
  if (typeof value !== 'object' || value === null)
    return { ok: false, code: ERR.AHC_STATUS_BAD_REQUEST, message: 'the request must be a JSON object' };
  const v = value as Record<string, unknown>;
  if (v.version !== undefined && v.version !== version) {
    return {
      ok: false,
      code: ERR.AHC_STATUS_VERSION,
      message: `protocol version ${String(v.version)} is not supported; this daemon speaks version ${version}`,
    };
  }
  return { ok: true, value: v };
}

export function parseRequest(line: string): StatusRequest | ErrorReply {
  const request = requestObject(line, STATUS_PROTOCOL_VERSION, '{"version":1,"command":"status"}');
  if (!request.ok) return errorReply(request.code, request.message);
  const v = request.value;
  switch (v.command) {
    case 'status':
    case 'ping':
      return { command: v.command };
    case 'inject-fault':
      if (typeof v.service === 'string' && typeof v.kind === 'string') return { command: 'inject-fault', service: v.service, kind: v.kind };
      return errorReply(ERR.AHC_STATUS_BAD_REQUEST, 'inject-fault needs "service" and "kind"');
    default:
      return errorReply(ERR.AHC_STATUS_BAD_REQUEST, `unknown command ${JSON.stringify(v.command)}; known: status, ping`);
  }
}

export function errorReply(code: ErrorCode, message: string): ErrorReply {
  return { version: STATUS_PROTOCOL_VERSION, ok: false, error: { code, message } };
}
