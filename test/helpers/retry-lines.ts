// The reconciler's failure and retry records (docs/log-records.md), as the integration and
// end-to-end tests wait for them in a DaemonProcess's lines.
import type { LogLine } from './daemon-process.js';

/** The WARNING after a failed attempt: group 1 the attempt, group 2 the delay in seconds. */
export const RETRY = /^IPv4 BIRD configuration is not applied yet \(attempt (\d+) failed\); retrying in ([\d.]+)s$/;

/** Matches the WARNING that attempt `attempt` failed. */
export const retryLine =
  (attempt: number) =>
  (line: LogLine): boolean =>
    line.level === 'WARNING' && RETRY.exec(line.message ?? '')?.[1] === String(attempt);

/** Matches the ERROR of a failed `birdc configure`. */
export const reconfigureFailed = (line: LogLine): boolean =>
  line.level === 'ERROR' && (line.message ?? '').startsWith('reconfiguring BIRD failed:');

/** The retry delays (seconds) announced in `lines` from index `from` on, in order. */
export function retryDelays(lines: readonly LogLine[], from: number): number[] {
  return lines
    .slice(from)
    .map((l) => RETRY.exec(l.message ?? '')?.[2])
    .filter((x) => x !== undefined)
    .map(Number);
}
