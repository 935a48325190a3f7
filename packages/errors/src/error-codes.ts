/**
 * The one table of error codes (docs/errors.md lists each with what to do). Code matches on
 * these, never on a class or a message: class identity is lost when an error crosses from a
 * worker thread. The meanings are comments, not strings, so that the worker bundle, which needs
 * the table, stays small (docs/design.md, Memory).
 */
const CODES = [
  // ---- configuration (exit code 1) ----
  'AHC_CONFIG_MISSING_FILE', // the daemon or service file does not exist or is not readable
  'AHC_CONFIG_MISSING_DIR', // a directory the configuration names does not exist
  'AHC_CONFIG_NOT_WRITABLE', // a directory the daemon must write to is not writable
  'AHC_CONFIG_UNREADABLE', // a configuration file exists but cannot be read
  'AHC_CONFIG_SYNTAX', // a file is not valid INI (fallback for an AHC_INI_* code)
  'AHC_CONFIG_INVALID', // an option's value has the wrong type or range
  'AHC_CONFIG_MISSING_OPTION', // a required option is missing in a service section
  'AHC_CONFIG_INTERPOLATION', // a %(name)s reference cannot be expanded (fallback)
  'AHC_CONFIG_FAMILY_DISABLED', // a service's prefix is of a family disabled in [daemon]
  'AHC_CONFIG_DUPLICATE_PREFIX', // two services use the same prefix
  'AHC_CONFIG_DUMMY_PREFIX_USED', // a service uses the dummy prefix
  'AHC_CONFIG_COMMAND_NOT_FOUND', // the program of check_cmd does not exist or is not executable
  'AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND', // warning: the program of custom_bird_reconfigure_cmd is missing
  'AHC_CONFIG_TIMEOUT_OVER_INTERVAL', // warning: check_timeout is longer than check_interval
  'AHC_CONFIG_MANY_THREADS', // warning: more than 64 per-service threads
  'AHC_CONFIG_UNKNOWN_GROUP', // control_group names a group this host does not have
  'AHC_LINT_UNKNOWN_OPTION', // warning (lint): an option nothing reads
  'AHC_LINT_SUDO_IN_SANDBOX', // warning (lint): a command starts with sudo, which the packaged unit's sandbox stops
  // ---- INI syntax (configparser rules) ----
  'AHC_INI_MISSING_SECTION_HEADER', // text before the first [section]
  'AHC_INI_DUPLICATE_SECTION', // the same section twice in one file
  'AHC_INI_DUPLICATE_OPTION', // the same option twice in one section
  'AHC_INI_PARSE', // a line that is neither header, option, comment nor continuation
  'AHC_INI_INTERPOLATION_SYNTAX', // a lone % or a malformed %(name)s
  'AHC_INI_INTERPOLATION_MISSING', // %(name)s names an option that does not exist
  'AHC_INI_INTERPOLATION_DEPTH', // interpolation loops or nests deeper than 10
  // ---- running ----
  'AHC_BIRD_WRITE', // the BIRD prefix file could not be written
  'AHC_BIRD_HISTORY', // a copy for bird_keep_changes could not be made
  'AHC_COMMAND_SYNTAX', // a command line cannot be split into words
  'AHC_PIDFILE', // the pidfile names a live daemon or cannot be written
  'AHC_STARTUP', // another daemon holds the instance lock
  'AHC_PROTOCOL', // a malformed message between the main thread and a worker
  'AHC_INTERNAL', // an unexpected error without a code of its own
  'AHC_SLOT_TRANSITION', // a worker slot was asked for a change its lifecycle does not allow (a bug)
  'AHC_SPAWN_PROTOCOL', // the ahc-spawn helper wrote a reply that is not in its protocol (it is restarted)
  'AHC_STATE_FILE', // warning: state_dir or its state file cannot be made, read, trusted or written (the daemon runs on)
  // ---- status socket and the status command ----
  'AHC_STATUS_SOCKET', // the status socket cannot be created, or a non-socket is in the way
  'AHC_STATUS_SOCKET_IN_USE', // another live daemon answers on the status socket
  'AHC_STATUS_BAD_REQUEST', // a request that is not JSON or names an unknown command
  'AHC_STATUS_VERSION', // a request for another protocol version
  'AHC_STATUS_TOO_LARGE', // a request line over 64 KiB
  'AHC_STATUS_INTERNAL', // building the reply failed
  'AHC_STATUS_DOWN', // status: no socket or nobody listening
  'AHC_STATUS_DENIED', // status: permission denied on the socket
  'AHC_STATUS_TIMEOUT', // status: the daemon did not answer in time
  'AHC_STATUS_BAD_REPLY', // status: the reply is not JSON
  // ---- control socket and the drain, undrain and reload commands ----
  'AHC_CONTROL_SOCKET', // the control socket cannot be created or given its group, or a non-socket is in the way
  'AHC_CONTROL_SOCKET_IN_USE', // another live daemon answers on the control socket
  'AHC_CONTROL_UNKNOWN_SERVICE', // drain/undrain named a service that is not configured
  'AHC_CONTROL_STILL_DRAINED', // undrain: the service stays drained by another drain (--all, the drain file)
  'AHC_CONTROL_RELOAD_INVALID', // reload: the new configuration is invalid; the running one is kept
  'AHC_CONTROL_BUSY', // the daemon is stopping (or not yet able) and refuses the request
  'AHC_CONTROL_DOWN', // a control command: no socket or nobody listening
  'AHC_CONTROL_DENIED', // a control command: permission denied on the socket
  'AHC_CONTROL_TIMEOUT', // a control command: the daemon did not answer in time
  'AHC_CONTROL_BAD_REPLY', // a control command: the reply is not JSON or not the answer to the request
  'AHC_DRAIN_FILE', // the drain file cannot be read or watched, or names unknown services (logged, never fatal)
] as const;

export type ErrorCode = (typeof CODES)[number];

/** Every code, in the order of docs/errors.md. */
export const ERROR_CODES: readonly ErrorCode[] = CODES;

/** `ERR.AHC_BIRD_WRITE === 'AHC_BIRD_WRITE'`: the constants to write instead of string literals. */
export const ERR = Object.freeze(Object.fromEntries(CODES.map((code) => [code, code]))) as { readonly [K in ErrorCode]: K };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (CODES as readonly string[]).includes(value);
}

/** The table's code an error carries, or `fallback` when it has none (or an OS errno instead). */
export function codeOf(error: unknown, fallback: ErrorCode): ErrorCode {
  const code = (error as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? code : fallback;
}
