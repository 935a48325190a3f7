import { SYSLOG_SEVERITY, asctime, levelName } from './log-record';
import type { LogRecord } from './log-record';

export interface FormatOptions {
  readonly program: string;
  readonly pid: number;
  readonly version: string;
  /** Width the thread column is padded to (see `threadColumnWidth`); longer names are kept whole. */
  readonly nameWidth: number;
  /** Text destinations only: the journald shape (`<P>THREAD - MESSAGE`) instead of the full line. */
  readonly journalctl: boolean;
  /** JSON destinations only: start the line with `PROGRAM: ` (default true; HTTP bodies leave it out). */
  readonly jsonPrefix?: boolean;
}

/** The thread column of records that belong to no service. */
export const MAIN_THREAD = 'MainThread';

/**
 * Width of the thread column: one more than the longest section name of the configuration, the
 * `DEFAULT` and `daemon` sections included (the Python daemon pads `threadName` this way, so
 * `MainThread` may stick out when every name is short).
 */
export function threadColumnWidth(serviceNames: Iterable<string>): number {
  let longest = Math.max('DEFAULT'.length, 'daemon'.length);
  for (const name of serviceNames) longest = Math.max(longest, name.length);
  return longest + 1;
}

const threadOf = (record: LogRecord): string => record.service_name ?? MAIN_THREAD;

/** `2026-11-24 10:00:00,123 anycast-healthchecker[4242] INFO     svc-name  message` */
export function formatText(record: LogRecord, options: FormatOptions): string {
  const level = levelName(record.level).toUpperCase();
  const thread = threadOf(record).padEnd(options.nameWidth);
  return `${asctime(record.time)} ${options.program}[${options.pid}] ${level.padEnd(8)} ${thread} ${record.message}\n`;
}

/** `log_format_journalctl`: `<6>svc-name - message`; journald adds time, pid and priority itself. */
export function formatJournal(record: LogRecord): string {
  return `<${SYSLOG_SEVERITY[levelName(record.level)]}>${threadOf(record)} - ${record.message}\n`;
}

/** Service fields in the order the Python daemon emits them. */
const SERVICE_KEYS = ['ip_address', 'prefix_length', 'ip_check_disabled', 'status'] as const;

/**
 * `anycast-healthchecker: {"asctime": …}`: the 7 base keys, plus the service fields the record
 * carries. A record with any service field always has `status` (`unknown` when not given); a
 * record without them (MainThread, or a service column logged without fields) has the base keys
 * only.
 */
export function formatJson(record: LogRecord, options: Omit<FormatOptions, 'nameWidth' | 'journalctl'>): string {
  const out: Record<string, unknown> = {
    asctime: asctime(record.time),
    levelname: levelName(record.level).toUpperCase(),
    process: options.pid,
    message: record.message,
  };
  if (SERVICE_KEYS.some((k) => record[k] !== undefined)) {
    for (const k of SERVICE_KEYS) if (record[k] !== undefined) out[k] = record[k];
    out.status ??= 'unknown';
  }
  out.version = options.version;
  out.program = options.program;
  out.service_name = threadOf(record);
  return `${options.jsonPrefix === false ? '' : `${options.program}: `}${JSON.stringify(out)}\n`;
}
