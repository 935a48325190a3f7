import pino from 'pino';
import { LEVEL_VALUES, levelName } from './log-record';
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

/** Where formatted lines go (stdout, a rotating file, syslog over UDP, HTTP). A sink must never
 * throw or block for long. */
export interface LogSink {
  write(line: string, level: LevelName): void;
}

/** One destination: a sink and the format it wants. */
export interface LogDestination {
  readonly sink: LogSink;
  readonly json: boolean;
  /** `<N>` syslog-severity prefix (log_format_journalctl; stdout only). */
  readonly journalctl?: boolean;
}

export interface LoggerOptions extends Omit<FormatOptions, 'pid' | 'journalctl'> {
  readonly level: LevelName;
  readonly destinations: readonly LogDestination[];
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
  const base: FormatOptions = { ...options, journalctl: false, pid: options.pid ?? process.pid };
  const destinations = options.destinations.map((d) => ({
    sink: d.sink,
    render: d.json ? formatJson : formatText,
    format: { ...base, journalctl: d.journalctl === true },
  }));
  const destination = {
    write(line: string): void {
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        return;
      }
      const level = levelName(record.level);
      for (const d of destinations) {
        try {
          d.sink.write(d.render(record, d.format), level);
        } catch {
          // a broken sink must not take the daemon down; sinks count their own losses
        }
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
