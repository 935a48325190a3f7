// Shared by the package unit tests (packages/*/test import it as ../../../test/helpers/capture-logger).
// The logger comes by path: the repo root does not depend on @ahc/logging.
import { createLogger } from '../../packages/logging/src/logger';
import type { LogDestination, Logger, LoggerOptions } from '../../packages/logging/src/logger';

/** What `captureLogger` accepts: any logger option, plus the one destination's format flags. */
export type CaptureOptions = Partial<Omit<LoggerOptions, 'destinations'>> & Partial<Omit<LogDestination, 'sink'>>;

/**
 * A logger whose only destination pushes every rendered line onto `lines`. Defaults: level
 * debug, program anycast-healthchecker, version test, name width 10, text lines.
 */
export function captureLogger(options: CaptureOptions = {}): { log: Logger; lines: string[] } {
  const { json = false, journalctl, jsonPrefix, ...rest } = options;
  const lines: string[] = [];
  const destination: LogDestination = {
    json,
    ...(journalctl === undefined ? {} : { journalctl }),
    ...(jsonPrefix === undefined ? {} : { jsonPrefix }),
    sink: { write: (l: string) => void lines.push(l) },
  };
  const log = createLogger({
    level: 'debug',
    program: 'anycast-healthchecker',
    version: 'test',
    nameWidth: 10,
    ...rest,
    destinations: [destination],
  });
  return { log, lines };
}
