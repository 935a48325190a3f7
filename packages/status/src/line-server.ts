import { AhcError, ERR } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { MAX_REQUEST_BYTES, errorReply } from './status-protocol';

export class SocketServerError extends AhcError {
  override name = 'SocketServerError';
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

export interface LineServerOptions {
  /** What the socket is, for messages: `status socket`, `control socket`. */
  readonly what: string;
  /** The codes of "cannot create it / a non-socket is in the way" and "another daemon answers on it". */
  readonly codes: { readonly socket: ErrorCode; readonly inUse: ErrorCode };
  /** Given to the socket file with chown after listen (null: the daemon's own group). */
  readonly gid?: number | null;
  /** Close a client that sends nothing for this long (default 10 s). */
  readonly idleTimeoutMs?: number;
  /** Answer one request line with one reply object. */
  readonly answer: (line: string) => Promise<object>;
}

/** Is a daemon answering on this socket path? */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A unix socket, mode 0660, one JSON object per line each way: the status socket and the control
 * socket are both one of these. A stale socket file (no one listening) is replaced; a live one
 * means another daemon owns it and we refuse; a file that is not a socket is never replaced.
 * The socket file is removed at close().
 */
export class LineSocketServer {
  #server: Server | null = null;
  readonly #clients = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly options: LineServerOptions,
  ) {}

  async listen(): Promise<void> {
    const { what, codes } = this.options;
    let exists = false;
    try {
      const st = lstatSync(this.path);
      if (!st.isSocket()) throw new SocketServerError(codes.socket, `${this.path} exists and is not a socket; refusing to replace it`);
      exists = true;
    } catch (error) {
      if (error instanceof SocketServerError) throw error;
    }
    if (exists) {
      if (await isLive(this.path)) {
        throw new SocketServerError(codes.inUse, `${what} ${this.path} is in use by another running anycast-healthchecker`);
      }
      unlinkSync(this.path);
    }
    const server = createServer((socket) => this.#serve(socket));
    server.maxConnections = 1024;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new SocketServerError(codes.socket, `cannot listen on ${what} ${this.path}: ${error.message}`)),
      );
      server.listen(this.path, () => resolve());
    });
    try {
      // Mode and group before anyone is served: the group's members may connect, nobody else.
      chmodSync(this.path, 0o660);
      const gid = this.options.gid ?? null;
      if (gid !== null) chownSync(this.path, -1, gid);
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
      throw new SocketServerError(codes.socket, `cannot set the mode or group of ${what} ${this.path}: ${(error as Error).message}`);
    }
    server.unref();
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const c of this.#clients) c.destroy();
    if (server === null) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  #serve(socket: Socket): void {
    this.#clients.add(socket);
    socket.setEncoding('utf8');
    socket.setTimeout(this.options.idleTimeoutMs ?? 10_000, () => socket.destroy());
    socket.on('close', () => this.#clients.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let queue = Promise.resolve();
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line !== '') queue = queue.then(() => this.#answer(socket, line));
        nl = buffer.indexOf('\n');
      }
      if (Buffer.byteLength(buffer) > MAX_REQUEST_BYTES) {
        buffer = '';
        socket.end(`${JSON.stringify(errorReply(ERR.AHC_STATUS_TOO_LARGE, `request longer than ${MAX_REQUEST_BYTES} bytes`))}\n`);
      }
    });
  }

  async #answer(socket: Socket, line: string): Promise<void> {
    let reply: object;
    try {
      reply = await this.options.answer(line);
    } catch (error) {
      reply = errorReply(ERR.AHC_STATUS_INTERNAL, (error as Error).message);
    }
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(reply)}\n`);
  }
}
