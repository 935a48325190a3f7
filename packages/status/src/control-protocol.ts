/**
 * The control socket's protocol, version 1 (docs/operations.md, "Control"): one JSON object per
 * line each way, as on the status socket, on a socket of its own so that who may change routes
 * is decided by that socket's file permissions. A client sends e.g.
 * `{"version":1,"command":"drain","services":["svc-a"],"reason":"maintenance"}` and gets one
 * reply line. Every reply carries `version` and `ok`; a refusal carries an error code, a
 * message, and for some codes the details (the reasons a reload is invalid, unknown names).
 */
import { ERR } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';
import { STATUS_PROTOCOL_VERSION, requestObject } from './status-protocol';

export const CONTROL_PROTOCOL_VERSION = STATUS_PROTOCOL_VERSION;
/** Longest drain reason kept (characters); longer ones are cut. */
export const MAX_REASON_LENGTH = 500;

export type ControlRequest =
  | { readonly command: 'drain'; readonly services: readonly string[]; readonly all: boolean; readonly reason: string }
  | { readonly command: 'undrain'; readonly services: readonly string[]; readonly all: boolean }
  | { readonly command: 'reload' }
  | { readonly command: 'ping' };

/** drain / undrain: what changed and what the drains are now. */
export interface DrainReply {
  readonly version: typeof CONTROL_PROTOCOL_VERSION;
  readonly ok: true;
  readonly command: 'drain' | 'undrain';
  /** Services whose prefixes are withdrawn (drain) or no longer held back (undrain) because of this request. */
  readonly changed: readonly string[];
  /** Every service drained after the request. */
  readonly drained: readonly string[];
  /** One line for the operator. */
  readonly message: string;
}

/** reload: the same summary SIGHUP logs. */
export interface ReloadReply {
  readonly version: typeof CONTROL_PROTOCOL_VERSION;
  readonly ok: true;
  readonly command: 'reload';
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: number;
  /** [daemon] options that differ and need a restart. */
  readonly daemonChanges: readonly string[];
  readonly message: string;
}

export interface ControlPong {
  readonly version: typeof CONTROL_PROTOCOL_VERSION;
  readonly ok: true;
  readonly command: 'ping';
}

export interface ControlErrorReply {
  readonly version: typeof CONTROL_PROTOCOL_VERSION;
  readonly ok: false;
  readonly error: { readonly code: string; readonly message: string; readonly details?: readonly string[] };
}

export type ControlReply = DrainReply | ReloadReply | ControlPong | ControlErrorReply;

export function controlError(code: ErrorCode, message: string, details?: readonly string[]): ControlErrorReply {
  return {
    version: CONTROL_PROTOCOL_VERSION,
    ok: false,
    error: { code, message, ...(details === undefined || details.length === 0 ? {} : { details: [...details] }) },
  };
}

function serviceList(v: Record<string, unknown>): string[] | null {
  const s = v.services ?? [];
  if (!Array.isArray(s) || !s.every((x) => typeof x === 'string' && x.trim() !== '')) return null;
  return [...new Set(s.map((x: string) => x.trim()))];
}

/** Parse one request line; an error reply when it is not a request we know. */
export function parseControlRequest(line: string): ControlRequest | ControlErrorReply {
  const request = requestObject(line, CONTROL_PROTOCOL_VERSION, 'e.g. {"version":1,"command":"reload"}');
  if (!request.ok) return controlError(request.code, request.message);
  const v = request.value;
  if (Array.isArray(v)) return controlError(ERR.AHC_STATUS_BAD_REQUEST, 'the request must be a JSON object');
  switch (v.command) {
    case 'ping':
    case 'reload':
      return { command: v.command };
    case 'drain':
    case 'undrain': {
      const services = serviceList(v);
      if (services === null) return controlError(ERR.AHC_STATUS_BAD_REQUEST, `${v.command}: "services" must be a list of service names`);
      const all = v.all === true;
      if (all === services.length > 0)
        return controlError(ERR.AHC_STATUS_BAD_REQUEST, `${v.command} needs either service names or "all": true (not both)`);
      if (v.command === 'undrain') return { command: 'undrain', services, all };
      if (v.reason !== undefined && typeof v.reason !== 'string')
        return controlError(ERR.AHC_STATUS_BAD_REQUEST, 'drain: "reason" must be a string');
      // One line in logs and status, whatever was sent.
      // eslint-disable-next-line no-control-regex
      const reason = (typeof v.reason === 'string' ? v.reason : '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
      return { command: 'drain', services, all, reason: reason === '' ? 'no reason given' : reason.slice(0, MAX_REASON_LENGTH) };
    }
    default:
      return controlError(ERR.AHC_STATUS_BAD_REQUEST, `unknown command ${JSON.stringify(v.command)}; known: drain, undrain, reload, ping`);
  }
}
