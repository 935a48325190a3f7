import type { Socket } from 'node:dgram';
import type { LogSink } from './logger';
import { SYSLOG_SEVERITY } from './log-record';
import type { LevelName } from './log-record';
import { MonitoredSink } from './sink-health';

/** Facility `user` (1), as Python's SysLogHandler uses by default. */
const FACILITY_USER = 1;

/**
 * Remote syslog over UDP (`log_server`, `log_server_port`): `<PRI>message\0` per record, the
 * Python daemon's SysLogHandler framing. UDP never blocks; a host name is looked up for every
 * datagram, so at most `maxInFlight` sends may wait (on a slow resolver) before records are
 * dropped and counted. Send errors lose the record, are reported once, and the next send that
 * works says how many were lost.
 */
export class SyslogUdpSink extends MonitoredSink implements LogSink {
  readonly #socket: Socket;
  #errors = 0;
  #inFlight = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly maxInFlight = 1000,
  ) {
    super(`syslog server ${host}:${port}`);
    // node:dgram is loaded only when a log server is configured (memory: see docs/design.md).
    this.#socket = process.getBuiltinModule('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.#socket.on('error', (error) => {
      this.#errors += 1;
      this.health.failed(error.message);
    });
    this.#socket.unref();
  }

  get errors(): number {
    return this.#errors;
  }

  write(line: string, level: LevelName): void {
    if (this.#inFlight >= this.maxInFlight) {
      this.health.stalled(`${this.#inFlight} datagrams are waiting to be sent`);
      return;
    }
    const pri = FACILITY_USER * 8 + SYSLOG_SEVERITY[level];
    const payload = Buffer.from(`<${pri}>${line.replace(/\n$/, '')}\0`);
    try {
      this.#inFlight += 1;
      this.#socket.send(payload, this.port, this.host, (error) => {
        this.#inFlight -= 1;
        if (error) {
          this.#errors += 1;
          this.health.failed(error.message);
        } else {
          this.health.ok();
        }
      });
    } catch (error) {
      this.#inFlight -= 1;
      this.#errors += 1;
      this.health.failed((error as Error).message);
    }
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }
}
