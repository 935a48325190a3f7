import { AhcError, ERR } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { MAX_REQUEST_BYTES, STATUS_PROTOCOL_VERSION, errorReply, parseRequest } from './status-protocol';
import type { ErrorReply, PongReply, StatusReply, StatusRequest } from './status-protocol';

export class StatusSocketError extends AhcError {
  override name = 'StatusSocketError';
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

export interface StatusHandlers {
  status(): Promise<StatusReply>;
  /** Test-only; absent unless fault injection is enabled. */
  injectFault?(service: string, kind: string): boolean;
}

/** Close a client that sends nothing for this long. */
const IDLE_TIMEOUT_MS = 10_000;

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
 * The status socket: a unix socket, mode 0660, newline-delimited JSON. A stale socket file (no
 * one listening) is replaced; a live one means another daemon owns it and we refuse.
 */
export class StatusServer {
  #server: Server | null = null;
  readonly #clients = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly handlers: StatusHandlers,
  ) {}

  async listen(): Promise<void> {
    let exists = false;
    try {
      const st = lstatSync(this.path);
      if (!st.isSocket())
        throw new StatusSocketError(ERR.AHC_STATUS_SOCKET, `${this.path} exists and is not a socket; refusing to replace it`);
      exists = true;
    } catch (error) {
      if ((error as { code?: string }).code === ERR.AHC_STATUS_SOCKET) throw error;
    }
    if (exists) {
      if (await isLive(this.path)) {
        throw new StatusSocketError(
          ERR.AHC_STATUS_SOCKET_IN_USE,
          `status socket ${this.path} is in use by another running anycast-healthchecker`,
        );
      }
      unlinkSync(this.path);
    }
    const server = createServer((socket) => this.#serve(socket));
    server.maxConnections = 1024;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new StatusSocketError(ERR.AHC_STATUS_SOCKET, `cannot listen on status socket ${this.path}: ${error.message}`)),
      );
      server.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o660);
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
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
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
    const request = parseRequest(line);
    let reply: StatusReply | ErrorReply | PongReply;
    try {
      reply = 'ok' in request ? request : await this.#handle(request);
    } catch (error) {
      reply = errorReply(ERR.AHC_STATUS_INTERNAL, (error as Error).message);
    }
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(reply)}\n`);
  }

  async #handle(request: StatusRequest): Promise<StatusReply | ErrorReply | PongReply> {
    switch (request.command) {
      case 'ping':
        return { version: STATUS_PROTOCOL_VERSION, ok: true, pong: true };
      case 'status':
        return this.handlers.status();
      case 'inject-fault': {
        const inject = this.handlers.injectFault;
        if (inject === undefined) return errorReply(ERR.AHC_STATUS_BAD_REQUEST, 'fault injection is not enabled in this daemon');
        return inject(request.service, request.kind)
          ? { version: STATUS_PROTOCOL_VERSION, ok: true, pong: true }
          : errorReply(ERR.AHC_STATUS_BAD_REQUEST, `cannot inject ${request.kind} into ${request.service}`);
      }
    }
  }
}
