// Talking to a BIRD control socket through birdc, and reading its answers; which BIRD builds
// the test bed can run (Debian's BIRD 2, and BIRD 3 where the test machine carries it).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exec, execSync, type ExecResult } from './exec.js';

export const BIRD = '/usr/sbin/bird';
export const BIRDC = '/usr/sbin/birdc';

/** One BIRD build: its daemon and its client. */
export interface BirdBinaries {
  /** `BIRD 2` or `BIRD 3`, for test names and reports. */
  readonly label: string;
  readonly major: 2 | 3;
  readonly bird: string;
  readonly birdc: string;
}

export const BIRD2: BirdBinaries = { label: 'BIRD 2', major: 2, bird: BIRD, birdc: BIRDC };

/** Where the test machine carries a BIRD 3 build, relative to the project root (CI has it too). */
export const BIRD3_DIR = join('..', 'shared', 'bird3', 'bin');

/** BIRD 3 from BIRD3_DIR under the project root, or why it cannot be used here. */
export function bird3Binaries(repoRoot: string): BirdBinaries | string {
  const dir = resolve(repoRoot, BIRD3_DIR);
  const bird = join(dir, 'bird');
  const client = join(dir, 'birdc');
  if (!existsSync(bird) || !existsSync(client)) return `no BIRD 3 build at ${dir} (bird, birdc)`;
  const v = execSync([bird, '--version']);
  const text = `${v.stdout}${v.stderr}`.trim();
  if (!/BIRD version 3\./.test(text)) return `${bird} --version says ${JSON.stringify(text)}, not BIRD 3`;
  return { label: 'BIRD 3', major: 3, bird, birdc: client };
}

/**
 * The BIRD builds to run a suite against: BIRD 2 always (the bed itself needs it), BIRD 3 when
 * present; `skipped` says why BIRD 3 is not in the list.
 */
export function birdFlavours(repoRoot: string): { readonly flavours: readonly BirdBinaries[]; readonly skipped: string | null } {
  const b3 = bird3Binaries(repoRoot);
  return typeof b3 === 'string' ? { flavours: [BIRD2], skipped: b3 } : { flavours: [BIRD2, b3], skipped: null };
}

/** Run `birdc -s SOCK ARGS...`; birdc itself exits non-zero when it cannot connect. */
export function birdc(socket: string, args: readonly string[], timeoutMs = 5_000, client = BIRDC): Promise<ExecResult> {
  return exec([client, '-s', socket, ...args], { timeoutMs });
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
