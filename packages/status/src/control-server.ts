import { ERR } from '@ahc/errors';
import { LineSocketServer } from './line-server';
import { parseControlRequest } from './control-protocol';
import type { ControlReply, ControlRequest } from './control-protocol';

/** The daemon's answers (apps/anycast-healthchecker/src/control.ts); each may take a while (a reload waits for start-up). */
export type ControlHandler = (request: Exclude<ControlRequest, { command: 'ping' }>) => Promise<ControlReply>;

/** How long a control client may stay connected without sending (a reload's answer is awaited beyond it). */
const CONTROL_IDLE_TIMEOUT_MS = 120_000;

/**
 * The control socket (drain, undrain, reload): a unix socket of its own, mode 0660 and the group
 * `control_group`, so that who may change routes is decided by its permissions (Node does not
 * give a unix socket peer's credentials). Same line protocol and stale-socket rules as the
 * status socket (line-server.ts).
 */
export class ControlServer {
  readonly #socket: LineSocketServer;

  constructor(
    readonly path: string,
    gid: number | null,
    private readonly handle: ControlHandler,
  ) {
    this.#socket = new LineSocketServer(path, {
      what: 'control socket',
      codes: { socket: ERR.AHC_CONTROL_SOCKET, inUse: ERR.AHC_CONTROL_SOCKET_IN_USE },
      gid,
      idleTimeoutMs: CONTROL_IDLE_TIMEOUT_MS,
      answer: (line) => this.#answer(line),
    });
  }

  listen(): Promise<void> {
    return this.#socket.listen();
  }

  close(): Promise<void> {
    return this.#socket.close();
  }

  async #answer(line: string): Promise<ControlReply> {
    const request = parseControlRequest(line);
    if ('ok' in request) return request;
    if (request.command === 'ping') return { version: 1, ok: true, command: 'ping' };
    return this.handle(request);
  }
}
