// The daemon's status socket from the test side (protocol version 1: one JSON request line, one
// JSON reply line, several requests per connection). Written against the documented wire format
// rather than imported from @ahc/status, so the tests check the daemon, not its own client.
import { connect, type Socket } from 'node:net';
import { pollUntil } from './poll.js';

export type WorkerStateName = 'starting' | 'running' | 'restarting' | 'failed' | 'disabled' | 'stopped';

/** The fault kinds a daemon started with AHC_FAULT_INJECTION=1 accepts (`inject-fault`). */
export type FaultKind = 'throw' | 'exit' | 'terminate' | 'busy-loop' | 'stall-loop';
export const FAULT_KINDS: readonly FaultKind[] = ['throw', 'exit', 'terminate', 'busy-loop', 'stall-loop'];
/** Not a worker's: raises uncaught exceptions in the daemon's main thread. */
export type MainFaultKind = 'main-throw';

/** The part of a service's status entry the tests read. */
export interface ServiceView {
  readonly name: string;
  readonly prefix: string;
  readonly state: 'up' | 'down' | 'unknown';
  readonly checks: number;
  readonly advertise: boolean;
  readonly inBirdFile: boolean;
  readonly lastCheck: null | { readonly at: string; readonly ok: boolean };
  readonly worker: {
    readonly state: WorkerStateName;
    readonly threadId: number | null;
    readonly lastHeartbeatAgeMs: number | null;
    readonly restarts: number;
    readonly lastExit: string | null;
  };
}

export interface StatusView {
  readonly version: 1;
  readonly ok: true;
  readonly daemon: { readonly pid: number; readonly workerThreads: 'per-service' | number; readonly threads: number };
  readonly services: readonly ServiceView[];
}

/** A reply that is not what the request should get, or no reply at all. */
export class StatusClientError extends Error {
  readonly code = 'AHC_TEST_STATUS';
  constructor(message: string) {
    super(message);
    this.name = 'StatusClientError';
  }
}

interface Pending {
  readonly resolve: (reply: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One connection to the status socket; requests are answered in order. */
export class StatusConnection {
  readonly #pending: Pending[] = [];
  #buffer = '';
  #closed: Error | null = null;

  private constructor(
    readonly path: string,
    private readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#receive(chunk));
    socket.on('error', (error) => this.#fail(new StatusClientError(`status socket ${path}: ${error.message}`)));
    socket.on('close', () => this.#fail(new StatusClientError(`status socket ${path} closed by the daemon`)));
  }

  /** Connect once; rejects when nothing listens on `path`. */
  static open(path: string, timeoutMs = 2_000): Promise<StatusConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new StatusClientError(`no connection to ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new StatusClientError(`cannot connect to ${path}: ${error.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new StatusConnection(path, socket));
      });
    });
  }

  /** Poll until the daemon's socket accepts a connection and answers `ping`. */
  static async waitFor(path: string, timeoutMs: number): Promise<StatusConnection> {
    return pollUntil(
      async () => {
        const connection = await StatusConnection.open(path);
        try {
          await connection.ping();
          return connection;
        } catch (error) {
          connection.close();
          throw error;
        }
      },
      { what: `the status socket ${path} to answer ping`, timeoutMs, intervalMs: 20 },
    );
  }

  request(body: Record<string, unknown>, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new StatusClientError(`no reply on ${this.path} within ${timeoutMs} ms to ${JSON.stringify(body)}`));
      }, timeoutMs);
      this.#pending.push({ resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ version: 1, ...body })}\n`);
    });
  }

  async status(): Promise<StatusView> {
    const reply = await this.request({ command: 'status' });
    if (reply.ok !== true || !Array.isArray(reply.services))
      throw new StatusClientError(`unexpected status reply: ${JSON.stringify(reply)}`);
    return reply as unknown as StatusView;
  }

  async ping(): Promise<void> {
    const reply = await this.request({ command: 'ping' });
    if (reply.ok !== true || reply.pong !== true) throw new StatusClientError(`unexpected ping reply: ${JSON.stringify(reply)}`);
  }

  /** Test-only request; resolves once the daemon confirmed it (`{"ok":true,"pong":true}`). */
  async injectFault(service: string, kind: FaultKind | MainFaultKind): Promise<void> {
    const reply = await this.request({ command: 'inject-fault', service, kind });
    if (reply.ok !== true || reply.pong !== true)
      throw new StatusClientError(`inject-fault ${kind} into ${service} refused: ${JSON.stringify(reply)}`);
  }

  close(): void {
    this.#fail(new StatusClientError(`status connection to ${this.path} closed`));
    this.socket.destroy();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let nl = this.#buffer.indexOf('\n');
    while (nl !== -1) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      const waiter = this.#pending.shift();
      if (waiter !== undefined) {
        clearTimeout(waiter.timer);
        try {
          waiter.resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          waiter.reject(new StatusClientError(`reply on ${this.path} is not JSON: ${line}`));
        }
      }
      nl = this.#buffer.indexOf('\n');
    }
  }

  #fail(error: Error): void {
    if (this.#closed === null) this.#closed = error;
    for (const waiter of this.#pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/** The entry of `name`; throws when the daemon does not report it. */
export function serviceOf(view: StatusView, name: string): ServiceView {
  const found = view.services.find((s) => s.name === name);
  if (found === undefined) throw new StatusClientError(`status has no service ${name}: ${view.services.map((s) => s.name).join(', ')}`);
  return found;
}
