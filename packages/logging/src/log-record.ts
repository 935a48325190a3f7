import type { LogLevel } from '@ahc/protocol';

/** Level names as the Python daemon prints them, and the numeric values records carry (ordered as Python's levels). */
export type LevelName = LogLevel;
export const LEVEL_VALUES = { debug: 20, info: 30, warning: 40, error: 50, critical: 60 } as const satisfies Record<LevelName, number>;

/** Syslog severities for `log_format_journalctl` (`<N>` line prefix). */
export const SYSLOG_SEVERITY: Record<LevelName, number> = { debug: 7, info: 6, warning: 4, error: 3, critical: 2 };

export interface ServiceLogFields {
  readonly service_name: string;
  readonly ip_address?: string;
  readonly prefix_length?: number;
  readonly status?: 'up' | 'down' | 'unknown';
  readonly ip_check_disabled?: boolean;
}

/** One record as the logger hands it to each destination's format. */
export interface LogRecord extends Partial<ServiceLogFields> {
  readonly level: number;
  readonly time: number;
  readonly message: string;
  readonly [key: string]: unknown;
}

export function levelName(value: number): LevelName {
  if (value >= 60) return 'critical';
  if (value >= 50) return 'error';
  if (value >= 40) return 'warning';
  if (value >= 30) return 'info';
  return 'debug';
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The seconds part of the last asctime: one record after another mostly falls in the same second. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** `2026-11-24 10:00:00,123` in local time, like Python logging's asctime. */
export function asctime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    // Keyed by the epoch second: a zone or DST change happens on a whole second, so it is seen.
    const d = new Date(second * 1000);
    cachedPrefix = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},`;
    cachedSecond = second;
  }
  return cachedPrefix + pad(Math.floor(ms - second * 1000), 3);
}
