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

/** Send one request and read one reply line. Rejects with a code an operator can act on. */
export function requestStatus(
  path: string,
  request: Record<string, unknown> = { command: 'status' },
  timeoutMs = 5000,
): Promise<StatusReply | ErrorReply | PongReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StatusClientError(ERR.AHC_STATUS_TIMEOUT, `the daemon did not answer on ${path} within ${timeoutMs} ms`));
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
        resolve(JSON.parse(buffer.slice(0, nl)) as StatusReply | ErrorReply | PongReply);
      } catch {
        reject(new StatusClientError(ERR.AHC_STATUS_BAD_REPLY, `the daemon's reply on ${path} is not JSON`));
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        error.code === 'ENOENT'
          ? `status socket ${path} does not exist: is anycast-healthchecker running?`
          : error.code === 'ECONNREFUSED'
            ? `nothing is listening on ${path}: anycast-healthchecker is not running (stale socket)`
            : error.code === 'EACCES'
              ? `permission denied on ${path}: run as root or a member of the daemon's group`
              : `cannot connect to ${path}: ${error.message}`;
      reject(new StatusClientError(error.code === 'EACCES' ? ERR.AHC_STATUS_DENIED : ERR.AHC_STATUS_DOWN, why));
    });
  });
}
