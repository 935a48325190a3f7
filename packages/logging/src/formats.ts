import { SYSLOG_SEVERITY, asctime, levelName } from './log-record';
import type { LogRecord } from './log-record';

export interface FormatOptions {
  readonly program: string;
  readonly pid: number;
  readonly version: string;
  /** Width of the service-name column (the longest service name, at least `MainThread`). */
  readonly nameWidth: number;
  readonly journalctl: boolean;
}

export const MAIN_THREAD = 'MainThread';

/** `2026-11-24 10:00:00,123 anycast-healthchecker[PID] INFO     svc-name  message` */
export function formatText(record: LogRecord, options: FormatOptions): string {
  const level = levelName(record.level);
  const name = (record.service_name ?? MAIN_THREAD).padEnd(options.nameWidth);
  const prefix = options.journalctl ? `<${SYSLOG_SEVERITY[level]}>` : '';
  return `${prefix}${asctime(record.time)} ${options.program}[${options.pid}] ${level.toUpperCase().padEnd(8)} ${name} ${record.message}\n`;
}

/** The JSON keys of SPEC §7 (those of the Python daemon's JSON formatter). */
export function formatJson(record: LogRecord, options: FormatOptions): string {
  const level = levelName(record.level);
  const out: Record<string, unknown> = {
    asctime: asctime(record.time),
    levelname: level.toUpperCase(),
    process: options.pid,
    message: record.message,
    version: options.version,
    program: options.program,
    service_name: record.service_name ?? MAIN_THREAD,
  };
  if (record.service_name !== undefined && record.service_name !== MAIN_THREAD) {
    out.ip_address = record.ip_address;
    out.prefix_length = record.prefix_length;
    out.status = record.status ?? 'unknown';
    out.ip_check_disabled = record.ip_check_disabled;
  }
  return `${JSON.stringify(out)}\n`;
}
