// Talking to a BIRD 2 control socket through birdc, and reading its answers.
import { exec, type ExecResult } from './exec.js';

export const BIRD = '/usr/sbin/bird';
export const BIRDC = '/usr/sbin/birdc';

/** Run `birdc -s SOCK ARGS...`; birdc itself exits non-zero when it cannot connect. */
export function birdc(socket: string, args: readonly string[], timeoutMs = 5_000): Promise<ExecResult> {
  return exec([BIRDC, '-s', socket, ...args], { timeoutMs });
}

export interface ProtocolRow {
  readonly name: string;
  readonly proto: string;
  readonly state: string;
  readonly info: string;
}

/**
 * Parse `show protocols`:
 *   Name       Proto      Table      State  Since         Info
 *   peer4      BGP        ---        up     12:00:01.000  Established
 */
export function parseProtocols(output: string): Map<string, ProtocolRow> {
  const rows = new Map<string, ProtocolRow>();
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(up|down|start|stop|flush)\s+(\S+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    const [, name = '', proto = '', , state = '', , info = ''] = m;
    rows.set(name, { name, proto, state, info: info.trim() });
  }
  return rows;
}

/**
 * Parse `show route`: BIRD 2 prints `Table master4:` then one line per network starting at the
 * line's first column (further routes for the same network and attributes are indented).
 */
export function parseRoutes(output: string): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of output.split('\n')) {
    const table = /^Table (\S+):/.exec(line);
    if (table !== null) {
      current = new Set();
      tables.set(table[1] ?? '', current);
      continue;
    }
    const net = /^([0-9A-Fa-f.:]+\/\d+)\s/.exec(line);
    if (net !== null && current !== undefined) current.add((net[1] ?? '').toLowerCase());
  }
  return tables;
}

/** `birdc configure` succeeded only if BIRD answered `Reconfigured` (docs/bird.md). */
export function isReconfigured(output: string): boolean {
  return /^Reconfigured\b/m.test(output) || /^Reconfiguration in progress\b/m.test(output);
}
