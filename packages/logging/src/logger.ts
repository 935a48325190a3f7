import { LEVEL_VALUES } from './log-record';
import type { LevelName, LogRecord, ServiceLogFields } from './log-record';
import { MAIN_THREAD, formatJournal, formatJson, formatText } from './formats';
import type { FormatOptions } from './formats';
import type { SinkMonitor } from './sink-health';

/**
 * The daemon's logger: records in the Python daemon's formats, handed to every destination. No
 * method ever throws, whatever the destinations do. (Records used to go through pino; why they no
 * longer do: docs/logging.md, "Why not pino".)
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  critical(message: string): void;
  log(level: LevelName, message: string): void;
  /**
   * One record with its own fields, merged over this logger's (a child's) fields for this record
   * only. `service_name` alone puts the record in that service's thread column without service
   * fields: its JSON has the 7 base keys only. Add `ip_address`, `prefix_length`,
   * `ip_check_disabled` and `status` for the records that carry them (JSON then has all four;
   * `status` is `unknown` when left out).
   *
   * ```ts
   * const web = { service_name: 'web', ip_address: '10.0.0.1', prefix_length: 32, ip_check_disabled: false };
   * log.logWith('info', 'going up 1/2', { ...web, status: 'unknown' });
   * log.logWith('warning', "10.0.0.1/32 isn't assigned to lo interface", { service_name: 'web' });
   * ```
   */
  logWith(level: LevelName, message: string, fields?: Partial<ServiceLogFields>): void;
  /** A logger whose records all carry `fields` (a service's column, and its fields if given). */
  child(fields: ServiceLogFields): Logger;
  readonly level: LevelName;
}

/**
 * Where formatted lines go (stderr, a rotating file, syslog over UDP, HTTP). A sink must never
 * throw or block: it drops and counts what it cannot take.
 */
export interface LogSink {
  write(line: string, level: LevelName): void;
  /** False while the sink loses lines; reports about other sinks are not sent there. */
  readonly healthy?: boolean;
  /** Called by the logger before the first record: where the sink reports its failures. */
  monitor?(monitor: SinkMonitor): void;
}

/** One destination: a sink and the format it wants. */
export interface LogDestination {
  readonly sink: LogSink;
  readonly json: boolean;
  /** Text only: `<P>THREAD - MESSAGE` for journald (`log_format_journalctl`). */
  readonly journalctl?: boolean;
  /** JSON only: the `PROGRAM: ` line prefix (default true; false for HTTP bodies). */
  readonly jsonPrefix?: boolean;
}

export interface LoggerOptions extends Omit<FormatOptions, 'pid' | 'journalctl' | 'jsonPrefix'> {
  readonly level: LevelName;
  readonly destinations: readonly LogDestination[];
  readonly pid?: number;
  /**
   * Where a destination's failure is reported when no other destination works (stderr, or
   * `stderr_file`): one raw `PROGRAM: message` line. Never used for its own failures.
   */
  readonly fallback?: LogSink;
  /** Sinks that get no records but whose failures are reported like a destination's (stdout). */
  readonly watch?: readonly LogSink[];
}

type Fields = Partial<ServiceLogFields>;
type Emit = (level: LevelName, message: string, fields: Fields | undefined) => void;

interface Dest {
  readonly sink: LogSink;
  render(record: LogRecord): string;
}

const isHealthy = (sink: LogSink): boolean => sink.healthy !== false;

function renderer(d: LogDestination, base: FormatOptions): (record: LogRecord) => string {
  if (d.json) {
    const format = { ...base, jsonPrefix: d.jsonPrefix !== false };
    return (r) => formatJson(r, format);
  }
  if (d.journalctl === true) return formatJournal;
  return (r) => formatText(r, base);
}

/**
 * A logger and its bindings. The methods are on the prototype, not closures per logger: the daemon
 * makes three loggers per service, and nine closures each came to 1.5 MiB at 1000 services.
 */
class BoundLogger implements Logger {
  readonly #emitRecord: Emit;
  readonly #threshold: number;
  readonly #bindings: Fields | undefined;

  constructor(
    emitRecord: Emit,
    readonly level: LevelName,
    bindings: Fields | undefined,
  ) {
    this.#emitRecord = emitRecord;
    this.#threshold = LEVEL_VALUES[level];
    this.#bindings = bindings;
  }

  #emit(l: LevelName, message: string, fields: Fields | undefined): void {
    // Below the level: dropped before the fields are merged.
    if (LEVEL_VALUES[l] < this.#threshold) return;
    const bindings = this.#bindings;
    try {
      this.#emitRecord(l, message, bindings === undefined ? fields : fields === undefined ? bindings : { ...bindings, ...fields });
    } catch {
      // logging never takes the daemon down
    }
  }

  debug(message: string): void {
    this.#emit('debug', message, undefined);
  }

  info(message: string): void {
    this.#emit('info', message, undefined);
  }

  warning(message: string): void {
    this.#emit('warning', message, undefined);
  }

  error(message: string): void {
    this.#emit('error', message, undefined);
  }

  critical(message: string): void {
    this.#emit('critical', message, undefined);
  }

  log(level: LevelName, message: string): void {
    this.#emit(level, message, undefined);
  }

  logWith(level: LevelName, message: string, fields?: Fields): void {
    this.#emit(level, message, fields);
  }

  child(fields: ServiceLogFields): Logger {
    const bindings = this.#bindings;
    return new BoundLogger(this.#emitRecord, this.level, bindings === undefined ? { ...fields } : { ...bindings, ...fields });
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const base: FormatOptions = {
    program: options.program,
    version: options.version,
    nameWidth: options.nameWidth,
    pid: options.pid ?? process.pid,
    journalctl: false,
  };
  const destinations: Dest[] = options.destinations.map((d) => ({ sink: d.sink, render: renderer(d, base) }));
  const writeAll = (record: LogRecord, level: LevelName): void => {
    for (const d of destinations) {
      try {
        d.sink.write(d.render(record), level);
      } catch {
        // a broken sink must not stop the others; sinks count their own losses
      }
    }
  };

  // Reports about sinks: queued, so a report that makes another sink fail is delivered after
  // this one instead of recursing; each sink reports once per episode, so the queue runs dry.
  const reports: Array<{ from: LogSink; message: string; level: LevelName; recovered: boolean }> = [];
  let reporting = false;
  const deliver = (from: LogSink, message: string, level: LevelName, recovered: boolean): void => {
    const record: LogRecord = { level: LEVEL_VALUES[level], time: Date.now(), message, service_name: MAIN_THREAD };
    let others = 0;
    for (const d of destinations) {
      const self = d.sink === from;
      if ((self && !recovered) || !isHealthy(d.sink)) continue;
      try {
        d.sink.write(d.render(record), level);
        // Delivered only if the sink is still fine after taking it.
        if (!self && isHealthy(d.sink)) others += 1;
      } catch {
        // as above
      }
    }
    const fb = options.fallback;
    if (others === 0 && fb !== undefined && fb !== from && isHealthy(fb) && !destinations.some((d) => d.sink === fb)) {
      try {
        fb.write(`${options.program}: ${message}\n`, level);
      } catch {
        // nowhere left to say it
      }
    }
  };
  const report = (from: LogSink, message: string, level: LevelName, recovered: boolean): void => {
    if (reports.length < 100) reports.push({ from, message, level, recovered });
    if (reporting) return;
    reporting = true;
    try {
      for (let r = reports.shift(); r !== undefined; r = reports.shift()) deliver(r.from, r.message, r.level, r.recovered);
    } finally {
      reporting = false;
    }
  };
  for (const sink of [...options.destinations.map((d) => d.sink), ...(options.watch ?? [])]) {
    sink.monitor?.({
      failing: (message, level) => report(sink, message, level, false),
      recovered: (message) => report(sink, message, 'warning', true),
    });
  }

  const emitRecord: Emit = (l, message, fields) => {
    const value = LEVEL_VALUES[l];
    const record: LogRecord =
      fields === undefined ? { level: value, time: Date.now(), message } : { ...fields, level: value, time: Date.now(), message };
    writeAll(record, l);
  };
  return new BoundLogger(emitRecord, options.level, undefined);
}
