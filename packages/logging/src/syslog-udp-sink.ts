import type { Socket } from 'node:dgram';
import type { LogSink } from './logger';
import { SYSLOG_SEVERITY } from './log-record';
import type { LevelName } from './log-record';
import { MonitoredSink } from './sink-health';

/** Facility `user` (1), as Python's SysLogHandler uses by default. */
const FACILITY_USER = 1;

/** How the sink finds the server's address: `dns.lookup` in the daemon, a stand-in in tests. */
export type SyslogLookup = (host: string, family: 4 | 6, done: (error: Error | null, address?: string) => void) => void;

/** How long a looked-up address is used before it is looked up again (in the background). */
const RELOOKUP_MS = 5 * 60_000;
/** After a failed lookup, the next one waits this long. */
const RETRY_LOOKUP_MS = 10_000;
/** Records kept while the first lookup is under way; more are dropped and counted. */
const MAX_WAITING = 100;

/**
 * Remote syslog over UDP (`log_server`, `log_server_port`): `<PRI>message\0` per record, the
 * Python daemon's SysLogHandler framing. UDP never blocks. A host name is looked up once, at
 * most one lookup at a time, and looked up again every few minutes while the old address stays
 * in use: a lookup holds one of libuv's four threadpool threads, which the BIRD file's reads
 * and writes need too, so a hung resolver must never hold more than one. At most `maxInFlight`
 * sends may wait before records are dropped and counted. Send errors lose the record, are
 * reported once, and the next send that works says how many were lost.
 */
export class SyslogUdpSink extends MonitoredSink implements LogSink {
  readonly #socket: Socket;
  readonly #family: 4 | 6;
  readonly #lookup: SyslogLookup;
  #errors = 0;
  #inFlight = 0;
  /** The server's address to send to; null until the first lookup answered. */
  #address: string | null = null;
  /** When the next lookup is due (monotonic ms): at once, then RELOOKUP_MS, or RETRY_LOOKUP_MS after a failure. */
  #nextLookupAt = 0;
  #lookingUp = false;
  #waiting: Buffer[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly maxInFlight = 1000,
    lookup?: SyslogLookup,
  ) {
    super(`syslog server ${host}:${port}`);
    const net = process.getBuiltinModule('node:net');
    this.#family = host.includes(':') ? 6 : 4;
    this.#lookup =
      lookup ??
      ((name, family, done) => process.getBuiltinModule('node:dns').lookup(name, { family }, (error, address) => done(error, address)));
    if (net.isIP(host) !== 0) this.#address = host;
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
    const pri = FACILITY_USER * 8 + SYSLOG_SEVERITY[level];
    const payload = Buffer.from(`<${pri}>${line.replace(/\n$/, '')}\0`);
    if (performance.now() >= this.#nextLookupAt) this.#lookUp();
    if (this.#address === null) {
      if (this.#waiting.length >= MAX_WAITING) this.health.stalled(`the address of ${this.host} is being looked up`);
      else this.#waiting.push(payload);
      return;
    }
    this.#send(payload);
  }

  /** One lookup at a time; the answer is used until the next one (a failed one keeps the old address). */
  #lookUp(): void {
    if (this.#lookingUp || this.#address === this.host) return;
    this.#lookingUp = true;
    this.#lookup(this.host, this.#family, (error, address) => {
      this.#lookingUp = false;
      const failed = error !== null || address === undefined;
      this.#nextLookupAt = performance.now() + (failed ? RETRY_LOOKUP_MS : RELOOKUP_MS);
      if (failed) {
        this.health.failed(`cannot look up ${this.host}: ${error?.message ?? 'no address'}`);
        return;
      }
      this.#address = address as string;
      const waiting = this.#waiting;
      this.#waiting = [];
      for (const payload of waiting) this.#send(payload);
    });
  }

  #send(payload: Buffer): void {
    if (this.#inFlight >= this.maxInFlight) {
      this.health.stalled(`${this.#inFlight} datagrams are waiting to be sent`);
      return;
    }
    const address = this.#address as string;
    try {
      this.#inFlight += 1;
      this.#socket.send(payload, this.port, address, (error) => {
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
