import { ERR } from '@ahc/errors';
import { requestLine } from './status-client';
import type { SocketClientKind } from './status-client';
import type { ControlReply } from './control-protocol';

export const CONTROL_CLIENT: SocketClientKind = {
  what: 'control socket',
  codes: {
    down: ERR.AHC_CONTROL_DOWN,
    denied: ERR.AHC_CONTROL_DENIED,
    timeout: ERR.AHC_CONTROL_TIMEOUT,
    badReply: ERR.AHC_CONTROL_BAD_REPLY,
  },
  deniedHint: 'run as root or as a member of its group (control_group in [daemon]; operations.md, "Who may change routes")',
};

/** Send one request to the control socket and read its reply (StatusClientError with an AHC_CONTROL_* code when there is none). */
export async function requestControl(path: string, request: Record<string, unknown>, timeoutMs: number): Promise<ControlReply> {
  return (await requestLine(path, request, timeoutMs, CONTROL_CLIENT)) as ControlReply;
}
