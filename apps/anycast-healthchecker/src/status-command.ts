import { compileConfig, loadConfigDocument } from '@ahc/config';
import type { ConfigSources } from '@ahc/config';
import { NAGIOS, StatusClientError, renderNagios, renderNagiosFailure, renderTable, requestStatus } from '@ahc/status';

export interface StatusArgs {
  readonly sources: ConfigSources;
  readonly format: 'table' | 'json' | 'nagios';
  readonly timeoutMs: number;
}

/**
 * `anycast-healthchecker status`: ask the running daemon over its status socket (the path comes
 * from the same configuration the daemon reads). Returns the exit code: 0/1 for table and JSON
 * (1 when the daemon cannot be reached), Nagios codes with --nagios.
 */
export async function runStatus(args: StatusArgs): Promise<number> {
  const nagios = args.format === 'nagios';
  let socket: string;
  try {
    const { document, files } = loadConfigDocument(args.sources);
    socket = compileConfig(document, files, { filesystem: false }).daemon.statusSocket;
  } catch (error) {
    const msg = `Invalid configuration: ${(error as Error).message}`;
    if (nagios) return print(renderNagiosFailure(NAGIOS.UNKNOWN, msg));
    process.stderr.write(`${msg}\n`);
    return 1;
  }
  let reply;
  try {
    reply = await requestStatus(socket, { command: 'status' }, args.timeoutMs);
  } catch (error) {
    const msg = error instanceof StatusClientError ? error.message : String(error);
    if (nagios) return print(renderNagiosFailure(NAGIOS.CRITICAL, msg));
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
