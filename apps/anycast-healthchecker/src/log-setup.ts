import { openSync, writeSync } from 'node:fs';
import type { CompiledConfig } from '@ahc/config';
import { HttpJsonSink, RotatingFileSink, SyslogUdpSink, createLogger, stdioSink, threadColumnWidth } from '@ahc/logging';
import type { LevelName, LogDestination, LogSink, Logger } from '@ahc/logging';
import { PROGRAM, VERSION } from './version';

export interface LogSetup {
  readonly log: Logger;
  close(): void;
}

/**
 * Destinations as the Python daemon chooses them (docs/logging.md): records go to `log_file`
 * (rotated by size) when set, else to stderr; remote syslog over UDP when `log_server` is set;
 * JSON over HTTP when `json_logging` and `http_server` are set. Each has its own text/JSON
 * switch. stdout carries only the startup lines that are not records; its failures are
 * reported like a destination's. A destination that fails is reported once on the others, or on
 * stderr (`stderr_file` when set) when there is no other.
 */
export function setupLogging(config: CompiledConfig): LogSetup {
  const l = config.daemon.logging;
  // Taken before stderr_file replaces process.stderr.write: records keep going to the real stderr.
  const stderr = stdioSink('stderr');
  const stdout = stdioSink('stdout');
  const destinations: LogDestination[] = [];
  const closers: Array<() => void> = [];
  if (l.logFile !== null) {
    const file = new RotatingFileSink(l.logFile, l.maxBytes, l.backups);
    closers.push(() => file.close());
    destinations.push({ sink: file, json: l.jsonLogFile });
  } else {
    destinations.push({ sink: stderr, json: l.jsonStdout, journalctl: l.journalctl });
  }
  if (l.server !== null) {
    const syslog = new SyslogUdpSink(l.server, l.serverPort);
    closers.push(() => syslog.close());
    destinations.push({ sink: syslog, json: l.jsonLogServer });
  }
  if (l.jsonLogging && l.httpServer !== null) {
    const port = l.httpServerPort ?? (l.httpServerProtocol === 'https' ? 443 : 80);
    const host = l.httpServer.includes(':') && !l.httpServer.startsWith('[') ? `[${l.httpServer}]` : l.httpServer;
    destinations.push({
      sink: new HttpJsonSink(new URL(`${l.httpServerProtocol}://${host}:${port}/`), l.httpServerTimeoutMs),
      json: true,
      jsonPrefix: false,
    });
  }
  const stderrFile = l.stderrFile === null ? null : redirectStderr(l.stderrFile);
  const log = createLogger({
    level: l.level,
    program: PROGRAM,
    version: VERSION,
    nameWidth: threadColumnWidth(config.services.map((s) => s.name)),
    destinations,
    fallback: stderrFile ?? stderr,
    // stdout, and stderr when it carries no records: their failures are reported all the same.
    watch: l.logFile === null ? [stdout] : [stdout, stderr],
  });
  return {
    log,
    close: () => {
      for (const c of closers) c();
    },
  };
}

/**
 * `stderr_file`: what the program writes to stderr (crash reports) goes to that file. Returns
 * that file as a sink for the reports about failing destinations. Writes never throw; a write
 * that fails is dropped (there is nowhere left to complain).
 */
function redirectStderr(path: string): LogSink | null {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o640);
  } catch (error) {
    stdioSink('stderr').write(
      `anycast-healthchecker: cannot open stderr_file ${path}: ${(error as Error).message}; stderr is kept\n`,
      'error',
    );
    return null;
  }
  const put = (chunk: string | Uint8Array): void => {
    try {
      if (typeof chunk === 'string') writeSync(fd, chunk);
      else writeSync(fd, chunk);
    } catch {
      // nowhere left to complain
    }
  };
  // Same contract as a stream's write: the callback (last argument) is called, asynchronously.
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    put(chunk);
    const cb = rest[rest.length - 1];
    if (typeof cb === 'function') process.nextTick(cb as () => void);
    return true;
  };
  process.stderr.write = write as typeof process.stderr.write;
  return { write: (line: string, _level: LevelName) => put(line) };
}
