import { ERR } from '@ahc/errors';
import { loadCompiledConfig } from '@ahc/config';
import type { ConfigSources } from '@ahc/config';
import { StatusClientError, requestControl } from '@ahc/status';
import type { ControlReply } from '@ahc/status';

/**
 * Exit codes of drain, undrain and reload (docs/anycast-healthchecker.8, EXIT STATUS). 2 stays
 * what it is for every command: an unexpected error outside the daemon.
 */
export const CONTROL_EXIT = {
  /** Done. */
  OK: 0,
  /** The daemon refused or the change failed (unknown service, still drained, invalid reload), or a usage or configuration error here. */
  REFUSED: 1,
  /** No daemon: the control socket does not exist or nobody listens on it. */
  NO_DAEMON: 3,
  /** Permission denied on the control socket. */
  DENIED: 4,
  /** No answer in time, or an answer that is not one. */
  NO_ANSWER: 5,
} as const;

export type ControlCommandRequest =
  | { readonly command: 'drain'; readonly services: readonly string[]; readonly all: boolean; readonly reason: string | undefined }
  | { readonly command: 'undrain'; readonly services: readonly string[]; readonly all: boolean }
  | { readonly command: 'reload' };

export interface ControlArgs {
  readonly sources: ConfigSources;
  readonly request: ControlCommandRequest;
  readonly timeoutMs: number;
}

/**
 * The control socket's path, from the same files as the daemon. When the service files do not
 * compile, the daemon file alone names it: a broken service file must not keep `reload` from
 * asking the daemon, whose answer lists every problem and keeps the running configuration.
 */
function controlSocketOf(sources: ConfigSources): string {
  try {
    return loadCompiledConfig(sources, { filesystem: false }).config.daemon.controlSocket;
  } catch (error) {
    try {
      return loadCompiledConfig({ file: sources.file }, { filesystem: false }).config.daemon.controlSocket;
    } catch {
      throw error;
    }
  }
}

function exitOf(code: string): number {
  switch (code) {
    case ERR.AHC_CONTROL_DOWN:
      return CONTROL_EXIT.NO_DAEMON;
    case ERR.AHC_CONTROL_DENIED:
      return CONTROL_EXIT.DENIED;
    default:
      return CONTROL_EXIT.NO_ANSWER;
  }
}

/** The reply in lines for the operator: stdout for a success, stderr for a refusal. */
export function renderControlReply(reply: ControlReply): { ok: boolean; lines: string[] } {
  if (!reply.ok)
    return { ok: false, lines: [`${reply.error.code}: ${reply.error.message}`, ...(reply.error.details ?? []).map((d) => `  ${d}`)] };
  if (reply.command === 'reload') {
    return {
      ok: true,
      lines: [
        reply.message,
        ...(reply.daemonChanges.length > 0 ? [`[daemon] changes need a restart to take effect: ${reply.daemonChanges.join(', ')}`] : []),
      ],
    };
  }
  if (reply.command === 'ping') return { ok: true, lines: ['pong'] };
  return { ok: true, lines: [reply.message, `drained now: ${reply.drained.length === 0 ? 'none' : reply.drained.join(', ')}`] };
}

/**
 * `anycast-healthchecker drain|undrain|reload`: one request to the running daemon over its
 * control socket (its path comes from the same configuration the daemon reads), the answer
 * printed, the exit code CONTROL_EXIT says.
 */
export async function runControl(args: ControlArgs): Promise<number> {
  const name = args.request.command;
  let socket: string;
  try {
    socket = controlSocketOf(args.sources);
  } catch (error) {
    process.stderr.write(`Invalid configuration: ${(error as Error).message}\n`);
    return CONTROL_EXIT.REFUSED;
  }
  let reply: ControlReply;
  try {
    reply = await requestControl(socket, { ...args.request }, args.timeoutMs);
  } catch (error) {
    const code = error instanceof StatusClientError ? error.code : '';
    process.stderr.write(`anycast-healthchecker ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitOf(code);
  }
  if (typeof reply !== 'object' || reply === null || typeof (reply as { ok?: unknown }).ok !== 'boolean') {
    process.stderr.write(`anycast-healthchecker ${name}: the daemon's reply on ${socket} is not an answer: ${JSON.stringify(reply)}\n`);
    return CONTROL_EXIT.NO_ANSWER;
  }
  const out = renderControlReply(reply);
  if (out.ok) {
    process.stdout.write(`${out.lines.join('\n')}\n`);
    return CONTROL_EXIT.OK;
  }
  process.stderr.write(`${out.lines.map((l, i) => (i === 0 ? `anycast-healthchecker ${name}: ${l}` : l)).join('\n')}\n`);
  return CONTROL_EXIT.REFUSED;
}
