import { openSync, writeSync } from 'node:fs';
import type { CompiledConfig } from '@ahc/config';
import { HttpJsonSink, MAIN_THREAD, RotatingFileSink, SyslogUdpSink, createLogger, stdoutSink } from '@ahc/logging';
import type { LogDestination, Logger } from '@ahc/logging';
import { PROGRAM, VERSION } from './version';

export interface LogSetup {
  readonly log: Logger;
  close(): void;
}

/**
 * Destinations as the Python daemon chooses them: `log_file` (rotated by size) instead of stdout
 * when set; remote syslog over UDP when `log_server` is set; JSON over HTTP when `json_logging`
 * and `http_server` are set. Each has its own text/JSON switch.
 */
export function setupLogging(config: CompiledConfig): LogSetup {
  const l = config.daemon.logging;
  const destinations: LogDestination[] = [];
  const closers: Array<() => void> = [];
  if (l.logFile !== null) {
    const file = new RotatingFileSink(l.logFile, l.maxBytes, l.backups);
    closers.push(() => file.close());
    destinations.push({ sink: file, json: l.jsonLogFile });
  } else {
    destinations.push({ sink: stdoutSink, json: l.jsonStdout, journalctl: l.journalctl });
  }
  if (l.server !== null) {
    const syslog = new SyslogUdpSink(l.server, l.serverPort);
    closers.push(() => syslog.close());
    destinations.push({ sink: syslog, json: l.jsonLogServer });
  }
  if (l.jsonLogging && l.httpServer !== null) {
    const port = l.httpServerPort ?? (l.httpServerProtocol === 'https' ? 443 : 80);
    const host = l.httpServer.includes(':') && !l.httpServer.startsWith('[') ? `[${l.httpServer}]` : l.httpServer;
    destinations.push({ sink: new HttpJsonSink(new URL(`${l.httpServerProtocol}://${host}:${port}/`), l.httpServerTimeoutMs), json: true });
  }
  if (l.stderrFile !== null) redirectStderr(l.stderrFile);
  const log = createLogger({
    level: l.level,
    program: PROGRAM,
    version: VERSION,
    nameWidth: Math.max(MAIN_THREAD.length, ...config.services.map((s) => s.name.length)),
    destinations,
  });
  return { log, close: () => { for (const c of closers) c(); } };
}

/** `stderr_file`: what the program writes to stderr (crash reports) goes to that file. */
function redirectStderr(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o640);
  } catch (error) {
    process.stderr.write(`anycast-healthchecker: cannot open stderr_file ${path}: ${(error as Error).message}; stderr is kept\n`);
    return;
  }
  const write = (chunk: string | Uint8Array): boolean => {
    try {
      if (typeof chunk === 'string') writeSync(fd, chunk);
      else writeSync(fd, chunk);
    } catch {
      // nowhere left to complain
    }
    return true;
  };
  process.stderr.write = write as typeof process.stderr.write;
}
