import { ERR } from '@ahc/errors';
import { LineSocketServer } from './line-server';
import { STATUS_PROTOCOL_VERSION, errorReply, parseRequest } from './status-protocol';
import type { ErrorReply, PongReply, StatusReply, StatusRequest } from './status-protocol';

export { SocketServerError as StatusSocketError } from './line-server';

export interface StatusHandlers {
  status(): Promise<StatusReply>;
  /** Test-only; absent unless fault injection is enabled. */
  injectFault?(service: string, kind: string): boolean;
}

/**
 * The status socket: a unix socket, mode 0660, newline-delimited JSON (line-server.ts). A stale
 * socket file (no one listening) is replaced; a live one means another daemon owns it and we refuse.
 */
export class StatusServer {
  readonly #socket: LineSocketServer;

  constructor(
    readonly path: string,
    private readonly handlers: StatusHandlers,
  ) {
    this.#socket = new LineSocketServer(path, {
      what: 'status socket',
      codes: { socket: ERR.AHC_STATUS_SOCKET, inUse: ERR.AHC_STATUS_SOCKET_IN_USE },
      answer: (line) => this.#answer(line),
    });
  }

  listen(): Promise<void> {
    return this.#socket.listen();
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  async #answer(line: string): Promise<StatusReply | ErrorReply | PongReply> {
    const request = parseRequest(line);
    return 'ok' in request ? request : this.#handle(request);
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
