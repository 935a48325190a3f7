import { AhcError, ERR } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';
import { connect } from 'node:net';
import { STATUS_PROTOCOL_VERSION } from './status-protocol';
import type { ErrorReply, PongReply, StatusReply } from './status-protocol';

export class StatusClientError extends AhcError {
  override name = 'StatusClientError';
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}

/** The words and codes of one kind of socket's client errors. */
export interface SocketClientKind {
  /** `status socket`, `control socket`. */
  readonly what: string;
  readonly codes: { readonly down: ErrorCode; readonly denied: ErrorCode; readonly timeout: ErrorCode; readonly badReply: ErrorCode };
  /** Who may connect, for a refused permission. */
  readonly deniedHint: string;
}

export const STATUS_CLIENT: SocketClientKind = {
  what: 'status socket',
  codes: { down: ERR.AHC_STATUS_DOWN, denied: ERR.AHC_STATUS_DENIED, timeout: ERR.AHC_STATUS_TIMEOUT, badReply: ERR.AHC_STATUS_BAD_REPLY },
  deniedHint: "run as root or a member of the daemon's group",
};

/** Send one request line and read one reply line. Rejects with a code an operator can act on. */
export function requestLine(path: string, request: Record<string, unknown>, timeoutMs: number, kind: SocketClientKind): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StatusClientError(kind.codes.timeout, `the daemon did not answer on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify({ version: STATUS_PROTOCOL_VERSION, ...request })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(JSON.parse(buffer.slice(0, nl)));
      } catch {
        reject(new StatusClientError(kind.codes.badReply, `the daemon's reply on ${path} is not JSON`));
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new StatusClientError(kind.codes.badReply, `the daemon closed ${path} without answering`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        error.code === 'ENOENT'
          ? `${kind.what} ${path} does not exist: is anycast-healthchecker running?`
          : error.code === 'ECONNREFUSED'
            ? `nothing is listening on ${path}: anycast-healthchecker is not running (stale socket)`
            : error.code === 'EACCES'
              ? `permission denied on ${path}: ${kind.deniedHint}`
              : `cannot connect to ${path}: ${error.message}`;
      reject(new StatusClientError(error.code === 'EACCES' ? kind.codes.denied : kind.codes.down, why));
    });
  });
}

/** Send one request to the status socket and read one reply line. */
export async function requestStatus(
  path: string,
  request: Record<string, unknown> = { command: 'status' },
  timeoutMs = 5000,
): Promise<StatusReply | ErrorReply | PongReply> {
  return (await requestLine(path, request, timeoutMs, STATUS_CLIENT)) as StatusReply | ErrorReply | PongReply;
}
