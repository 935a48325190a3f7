/** Everything a check loop needs to know about one service, as plain data (it crosses a
 * MessagePort). Times are milliseconds. */
export type ServiceState = 'up' | 'down' | 'unknown';
export type OnDisabled = 'withdraw' | 'advertise';
export type Family = 4 | 6;
/** The one list of log level names (the Python daemon's), lowest first; every other place
 * (logging's values, the configuration's log_level) derives from it. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return (LOG_LEVELS as readonly unknown[]).includes(value);
}

export function logLevelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

export interface ServiceCheckSpec {
  readonly name: string;
  /** check_cmd as written (for logs) and split into words (run without a shell). */
  readonly checkCmd: string;
  readonly argv: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fail: number;
  readonly interface: string;
  readonly ipCheckDisabled: boolean;
  /** Normalised prefix (`10.52.12.1/32`), its network address and family. */
  readonly prefix: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly family: Family;
  /** Maximum random delay before the first check, or 0. */
  readonly splayMs: number;
  /**
   * Monotonic time (ms, `monotonicMs()`) the schedules of all services are anchored to (the daemon's start):
   * without splay, every service with the same interval checks at the same moments, however long
   * its thread took to start, so failures noticed together are applied together.
   */
  readonly epochMs: number;
  /**
   * This service's offset (ms, under one interval) on that grid: the supervisor spreads the
   * services in small groups a few ms apart (PHASE_STEP_MS, PHASE_SLOT_MS in packages/supervisor),
   * so a thread hosting hundreds of checks does not start them all in one turn, a group shares its
   * wake-ups, and checks of services that fail together
   * still land close enough to be applied in one BIRD update (docs/design.md, "Checks").
   */
  readonly phaseMs: number;
  /** Bytes of stdout/stderr kept from a failed check for the log. */
  readonly maxOutputBytes: number;
}

/** The rise/fall counters and decided state of a service; kept by the supervisor so that a
 * restarted worker continues where the old one stopped. */
export interface CheckCounters {
  readonly state: ServiceState;
  readonly rise: number;
  readonly fail: number;
}

export const INITIAL_COUNTERS: CheckCounters = Object.freeze({ state: 'unknown', rise: 0, fail: 0 });
