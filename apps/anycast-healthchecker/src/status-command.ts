import { ERR, describeError } from '@ahc/errors';
import { loadCompiledConfig } from '@ahc/config';
import type { ConfigSources } from '@ahc/config';
import { NAGIOS, StatusClientError, renderNagios, renderNagiosFailure, renderTable, requestStatus } from '@ahc/status';
import type { NagiosCode } from '@ahc/status';

export interface StatusArgs {
  readonly sources: ConfigSources;
  readonly format: 'table' | 'json' | 'nagios';
  /** The whole command's time limit, counted from the start of the process. */
  readonly timeoutMs: number;
}

/**
 * Nagios state for a failure to get an answer. Only "nobody is there" says something about the
 * daemon (CRITICAL); a timeout, a refused permission or a garbled reply mean the plugin could not
 * find out (UNKNOWN, as the plugin guidelines ask).
 */
function nagiosStateOf(code: string): NagiosCode {
  return code === ERR.AHC_STATUS_DOWN ? NAGIOS.CRITICAL : NAGIOS.UNKNOWN;
}

/**
 * `anycast-healthchecker status`: ask the running daemon over its status socket (the path comes
 * from the same configuration the daemon reads). Returns the exit code: 0/1 for table and JSON
 * (1 when the daemon cannot be reached), Nagios codes with --nagios (where no error escapes: an
 * unexpected one is UNKNOWN too).
 */
export async function runStatus(args: StatusArgs): Promise<number> {
  if (args.format !== 'nagios') return status(args);
  try {
    return await status(args);
  } catch (error) {
    return print(renderNagiosFailure(NAGIOS.UNKNOWN, `internal error: ${describeError(error)}`));
  }
}

async function status(args: StatusArgs): Promise<number> {
  const nagios = args.format === 'nagios';
  let socket: string;
  try {
    socket = loadCompiledConfig(args.sources, { filesystem: false }).config.daemon.statusSocket;
  } catch (error) {
    const msg = `Invalid configuration: ${(error as Error).message}`;
    if (nagios) return print(renderNagiosFailure(NAGIOS.UNKNOWN, msg));
    process.stderr.write(`${msg}\n`);
    return 1;
  }
  // The limit covers the whole run (start-up and reading the configuration included), so a
  // monitoring system's -t is kept; at least 1 ms is left for the request itself.
  const remainingMs = Math.max(1, Math.round(args.timeoutMs - process.uptime() * 1000));
  let reply;
  try {
    reply = await requestStatus(socket, { command: 'status' }, remainingMs);
  } catch (error) {
    const code = error instanceof StatusClientError ? error.code : '';
    const msg = error instanceof StatusClientError ? error.message : String(error);
    if (nagios) {
      if (code === ERR.AHC_STATUS_TIMEOUT) {
        return print(
          renderNagiosFailure(
            NAGIOS.UNKNOWN,
            `timed out after ${args.timeoutMs / 1000} s (--timeout) waiting for the daemon to answer on ${socket}`,
          ),
        );
      }
      return print(renderNagiosFailure(nagiosStateOf(code), msg));
    }
    process.stderr.write(`anycast-healthchecker status: ${msg}\n`);
    return 1;
  }
  if (!reply.ok || !('daemon' in reply)) {
    const msg = reply.ok ? 'unexpected reply' : `${reply.error.code}: ${reply.error.message}`;
    if (nagios) return print(renderNagiosFailure(NAGIOS.UNKNOWN, `the daemon answered with an error: ${msg}`));
    process.stderr.write(`anycast-healthchecker status: ${msg}\n`);
    return 1;
  }
  if (nagios) return print(renderNagios(reply));
  process.stdout.write(args.format === 'json' ? `${JSON.stringify(reply, null, 2)}\n` : renderTable(reply));
  return 0;
}

function print(result: { code: number; line: string }): number {
  process.stdout.write(`${result.line}\n`);
  return result.code;
}
