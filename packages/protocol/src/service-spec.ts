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

/** One prefix of a service: normalised (`10.52.12.1/32`), its network address, length and family. */
export interface IpPrefix {
  readonly prefix: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly family: Family;
}

/**
 * A service's prefixes as one text, for places that show a service on one line (status table,
 * `status --json`'s `prefix`): the prefix itself when there is one, as before; else all of them,
 * in configured order, joined by a comma and a space (docs/configuration.md, "Several prefixes per service").
 */
export function prefixesText(prefixes: readonly IpPrefix[]): string {
  return prefixes.map((p) => p.prefix).join(', ');
}

/** The families a service's prefixes are in, IPv4 first, each once. */
export function prefixFamilies(prefixes: readonly IpPrefix[]): Family[] {
  return ([4, 6] as const).filter((f) => prefixes.some((p) => p.family === f));
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
  /** Its prefixes (at least one), in configured order; all must be on `interface` (unless ipCheckDisabled). */
  readonly prefixes: readonly IpPrefix[];
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
