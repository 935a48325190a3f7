import pino from 'pino';
import { LEVEL_VALUES } from './log-record';
import type { LevelName, LogRecord, ServiceLogFields } from './log-record';
import { formatJson, formatText } from './formats';
import type { FormatOptions } from './formats';

/** The daemon's logger: pino underneath, the Python daemon's formats on the way out. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  critical(message: string): void;
  log(level: LevelName, message: string): void;
  child(fields: ServiceLogFields): Logger;
  readonly level: LevelName;
}

/** Where formatted lines go. Later destinations (files with rotation, syslog, HTTP) implement
 * this too; a sink must never throw or block for long. */
export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions extends Omit<FormatOptions, 'pid'> {
  readonly level: LevelName;
  readonly json: boolean;
  readonly sink: LogSink;
  readonly pid?: number;
}

type PinoLogger = pino.Logger<LevelName, boolean>;

function wrap(inner: PinoLogger, level: LevelName): Logger {
  const self: Logger = {
    level,
    debug: (m) => inner.debug(m),
    info: (m) => inner.info(m),
    warning: (m) => inner.warning(m),
    error: (m) => inner.error(m),
    critical: (m) => inner.critical(m),
    log: (l, m) => inner[l](m),
    child: (fields) => wrap(inner.child(fields), level),
  };
  return self;
}

export function createLogger(options: LoggerOptions): Logger {
  const format: FormatOptions = { ...options, pid: options.pid ?? process.pid };
  const render = options.json ? formatJson : formatText;
  const destination = {
    write(line: string): void {
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        return;
      }
      try {
        options.sink.write(render(record, format));
      } catch {
        // a broken sink must not take the daemon down; later issues add accounting of loss
      }
    },
  };
  const inner = pino<LevelName, true>({
    level: options.level,
    customLevels: LEVEL_VALUES,
    useOnlyCustomLevels: true,
    base: undefined,
    messageKey: 'message',
    timestamp: () => `,"time":${Date.now()}`,
  }, destination);
  return wrap(inner, options.level);
}

/** stdout as a sink. */
export const stdoutSink: LogSink = { write: (line) => void process.stdout.write(line) };
