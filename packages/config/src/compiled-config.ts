import type { Family, IpPrefix, LogLevel } from '@ahc/protocol';
import type { ErrorCode } from '@ahc/errors';

/** The frozen, typed configuration the daemon runs on. Seconds are converted to milliseconds. */
import type { Command } from '@ahc/command';

export type { Command };

export interface BirdFamilyConfig {
  readonly family: Family;
  readonly path: string;
  readonly variable: string;
  readonly dummy: string;
  readonly reconfigureCmd: Command;
  readonly keepChanges: boolean;
  readonly changesCounter: number;
  /** Run with the variable name appended after each reconfigure to compare BIRD's live set (null: off). */
  readonly verifyCmd: Command | null;
}

export interface ServiceConfig {
  readonly name: string;
  /** The file that defined the section (for messages). */
  readonly file: string;
  readonly checkCmd: Command;
  /** `ip_prefix`: one prefix or several, normalised, in the order written; advertised and withdrawn together. */
  readonly prefixes: readonly IpPrefix[];
  readonly interface: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fail: number;
  readonly disabled: boolean;
  readonly onDisabled: 'withdraw' | 'advertise';
  readonly ipCheckDisabled: boolean;
  readonly customReconfigureCmd: Command | null;
  readonly customReconfigureTimeoutMs: number;
}

export interface LoggingConfig {
  readonly level: LogLevel;
  readonly logFile: string | null;
  readonly stderrFile: string | null;
  readonly maxBytes: number;
  readonly backups: number;
  readonly server: string | null;
  readonly serverPort: number;
  readonly jsonStdout: boolean;
  readonly jsonLogFile: boolean;
  readonly jsonLogServer: boolean;
  readonly journalctl: boolean;
  readonly jsonLogging: boolean;
  readonly httpServer: string | null;
  readonly httpServerPort: number | null;
  readonly httpServerProtocol: 'http' | 'https';
  readonly httpServerTimeoutMs: number;
}

export interface DaemonConfig {
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  /** The enabled families only. */
  readonly bird: readonly BirdFamilyConfig[];
  readonly purgeIpPrefixes: boolean;
  readonly pidfile: string;
  readonly logging: LoggingConfig;
  readonly splayStartupMs: number;
  readonly prometheus: {
    readonly enabled: boolean;
    readonly textfileDir: string;
    readonly intervalMs: number;
    readonly listen: string | null;
  };
  /** How checks are hosted, resolved from `worker_threads` (see resolveWorkerThreads). */
  readonly workerThreads: 'per-service' | number;
  /** Why: the setting and, when it was `auto` or unset, the rule that chose (logged at start, `-P`). */
  readonly workerThreadsReason: string;
  readonly reconfigureTimeoutMs: number;
  /** Name of the abstract unix socket that keeps a second daemon from starting. */
  readonly instanceLock: string;
  /** The status socket (default: the pidfile's path with .sock for .pid). */
  readonly statusSocket: string;
  /** What a service's route does while the watchdog gives up on its worker. */
  readonly onWorkerFailure: 'keep' | 'withdraw';
  /** The control socket of drain, undrain and reload (default: beside the status socket, see defaultControlSocket). */
  readonly controlSocket: string;
  /** The group given the control socket (mode 0660); null: the daemon's own group. */
  readonly controlGroup: string | null;
  /** While this file exists, the services it names (none: all) are drained; null: no drain file. */
  readonly drainFile: string | null;
  /** `state_dir` and `state_max_age` (docs/operations.md, "State across restarts"). */
  readonly state: { readonly dir: string; readonly maxAgeMs: number };
  /** `withdraw_on_shutdown` and its bound `withdraw_on_shutdown_timeout`. */
  readonly withdrawOnShutdown: { readonly enabled: boolean; readonly timeoutMs: number };
  /** `release_startup_pages`: once the checks run, unmap the node executable's pages only start-up
   * used (docs/design.md, "Memory: the node binary's start-up pages"). */
  readonly releaseStartupPages: boolean;
}

export interface ConfigProblem {
  readonly severity: 'error' | 'warning';
  readonly code: ErrorCode;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly option?: string;
  /**
   * About what this host has installed, not about the configuration: `-c` (a check of the
   * configuration, often run on a build host) leaves it out; lint and the daemon report it.
   */
  readonly hostOnly?: true;
}

export interface CompiledConfig {
  readonly daemon: DaemonConfig;
  readonly services: readonly ServiceConfig[];
  readonly files: readonly string[];
  readonly warnings: readonly ConfigProblem[];
}
