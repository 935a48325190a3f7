import type { Socket } from 'node:dgram';
import type { LogSink } from './logger';
import { SYSLOG_SEVERITY } from './log-record';
import type { LevelName } from './log-record';

/** Facility `user` (1), as Python's SysLogHandler uses by default. */
const FACILITY_USER = 1;

/**
 * Remote syslog over UDP (`log_server`, `log_server_port`): `<PRI>message\0` per record, the
 * Python daemon's SysLogHandler framing. UDP never blocks: a dead or slow server loses records,
 * it never delays anything.
 */
export class SyslogUdpSink implements LogSink {
  readonly #socket: Socket;
  #errors = 0;

  constructor(readonly host: string, readonly port: number) {
    // node:dgram is loaded only when a log server is configured (memory: see docs/design.md).
    this.#socket = process.getBuiltinModule('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.#socket.on('error', () => { this.#errors += 1; });
    this.#socket.unref();
  }

  get errors(): number {
    return this.#errors;
  }

  write(line: string, level: LevelName): void {
    const pri = FACILITY_USER * 8 + SYSLOG_SEVERITY[level];
    const payload = Buffer.from(`<${pri}>${line.replace(/\n$/, '')}\0`);
    this.#socket.send(payload, this.port, this.host, (error) => {
      if (error) this.#errors += 1;
    });
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}
