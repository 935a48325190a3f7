// The real anycast-healthchecker CLI as a child process inside the test bed's node namespace:
// its configuration files, its log lines as they arrive (with arrival times) and its shutdown.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execSync } from './exec.js';
import { requireNetnsSupport } from './netns.js';

/** Path of the CLI launcher inside a checkout (`pnpm install` links it, `pnpm run build` builds it). */
export function daemonBin(repoRoot: string): string {
  return join(repoRoot, 'node_modules', '.bin', 'anycast-healthchecker');
}

/** Why the daemon cannot be run from this checkout (not built, `--version` fails), or null. */
export function daemonUnavailableReason(repoRoot: string): string | null {
  const r = execSync([daemonBin(repoRoot), '--version'], 20_000);
  if (r.code !== 0 || r.stdout.trim() === '') {
    return `\`${daemonBin(repoRoot)} --version\` failed (exit ${r.code}): ${`${r.stdout}${r.stderr}`.trim()}`;
  }
  return null;
}

/**
 * Why tests that run the daemon should be skipped here, or null. Locally an unbuilt daemon is a
 * reason to skip (with the reason printed); in CI, which builds before testing, it is not: the
 * tests run and fail, a real failure rather than a missing prerequisite.
 */
export function daemonSkipReason(repoRoot: string): string | null {
  return process.env.CI === undefined ? daemonUnavailableReason(repoRoot) : null;
}

/**
 * The start of an end-to-end suite that runs this checkout's CLI in network namespaces: the CLI,
 * and why the suite cannot run here, or null. No root, netns or BIRD: skip. An unbuilt daemon:
 * skip locally, fail in CI (daemonSkipReason). `more` adds a reason of the suite's own. A skip
 * is said on stderr as `skipping WHAT: why`.
 */
export function e2eDaemonSuite(
  what: string,
  more: () => string | null = () => null,
): { readonly bin: string; readonly skipReason: string | null } {
  const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
  const skipReason = requireNetnsSupport() ?? daemonSkipReason(repoRoot) ?? more();
  if (skipReason !== null) console.warn(`skipping ${what}: ${skipReason}`);
  return { bin: daemonBin(repoRoot), skipReason };
}

export interface ServiceSpec {
  readonly name: string;
  readonly ipPrefix: string;
  /** Full check_cmd text (split like a POSIX shell, run without one). */
  readonly checkCmd: string;
  readonly checkInterval?: number;
  readonly checkTimeout?: number;
  readonly checkRise?: number;
  readonly checkFail?: number;
  readonly checkDisabled?: boolean;
  readonly iface?: string;
}

export function renderService(spec: ServiceSpec): string {
  return [
    `[${spec.name}]`,
    `check_cmd = ${spec.checkCmd}`,
    `check_interval = ${spec.checkInterval ?? 0.5}`,
    `check_timeout = ${spec.checkTimeout ?? 0.4}`,
    `check_rise = ${spec.checkRise ?? 2}`,
    `check_fail = ${spec.checkFail ?? 2}`,
    `check_disabled = ${spec.checkDisabled === true ? 'true' : 'false'}`,
    `ip_prefix = ${spec.ipPrefix}`,
    ...(spec.iface === undefined ? [] : [`interface = ${spec.iface}`]),
    '',
  ].join('\n');
}

export interface DaemonConfigInput {
  /** Directory for the daemon's own files: prefix files, pidfile, health files. */
  readonly dir: string;
  readonly prefixFile4: string;
  readonly prefixFile6: string;
  readonly reconfigureCommand: string;
  readonly loglevel?: string;
  /** Extra `key = value` lines for [daemon]. */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface DaemonFiles {
  readonly confFile: string;
  readonly servicesDir: string;
  readonly pidfile: string;
}

/** The daemon's BIRD settings for a BIRD pair's node (bird-pair.ts): its two include files and its birdc. */
export function pairBird(bed: {
  readonly prefixFile4: string;
  readonly prefixFile6: string;
  readonly nodeReconfigureCommand: string;
}): Pick<DaemonConfigInput, 'prefixFile4' | 'prefixFile6' | 'reconfigureCommand'> {
  return { prefixFile4: bed.prefixFile4, prefixFile6: bed.prefixFile6, reconfigureCommand: bed.nodeReconfigureCommand };
}

/** Write the [daemon] file and an empty services directory `services.d` under `dir`. */
export function writeDaemonConfig(input: DaemonConfigInput, servicesDirName = 'services.d'): DaemonFiles {
  const confFile = join(input.dir, 'anycast-healthchecker.conf');
  const servicesDir = join(input.dir, servicesDirName);
  const pidfile = join(input.dir, 'ahc.pid');
  mkdirSync(servicesDir, { recursive: true });
  const lines = [
    '[daemon]',
    'ipv4 = true',
    'ipv6 = true',
    `bird_conf = ${input.prefixFile4}`,
    `bird6_conf = ${input.prefixFile6}`,
    `bird_reconfigure_cmd = ${input.reconfigureCommand}`,
    `bird6_reconfigure_cmd = ${input.reconfigureCommand}`,
    `pidfile = ${pidfile}`,
    // A state directory of this configuration's own: a daemon started again from the same files
    // restores from it, one started from newly written files starts fresh, as the tests expect.
    ...(input.extra?.state_dir === undefined ? [`state_dir = ${mkdtempSync(join(input.dir, 'state-'))}`] : []),
    `loglevel = ${input.loglevel ?? 'debug'}`,
    'purge_ip_prefixes = true',
    ...Object.entries(input.extra ?? {}).map(([k, v]) => `${k} = ${v}`),
    '',
  ];
  writeFileSync(confFile, lines.join('\n'));
  return { confFile, servicesDir, pidfile };
}

/** Write one service per `<name>.conf` file in `servicesDir`. */
export function writeServiceFiles(servicesDir: string, specs: readonly ServiceSpec[]): void {
  mkdirSync(servicesDir, { recursive: true });
  for (const spec of specs) writeFileSync(join(servicesDir, `${spec.name}.conf`), renderService(spec));
}

export interface LogLine {
  readonly raw: string;
  readonly stream: 'stdout' | 'stderr';
  /** performance.now() when the line was read. */
  readonly at: number;
  readonly level?: string;
  readonly service?: string;
  readonly message?: string;
}

// `2026-11-24 10:00:00,123 anycast-healthchecker[PID] INFO     svc-name  message`
const TEXT_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} anycast-healthchecker\[\d+\] (\w+)\s+(\S+)\s+(.*)$/;

export function parseLogLine(raw: string, stream: 'stdout' | 'stderr', at: number): LogLine {
  const m = TEXT_LINE.exec(raw);
  if (m === null) return { raw, stream, at };
  return { raw, stream, at, level: m[1], service: m[2], message: m[3] };
}

export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running daemon: every output line is kept, waiters are woken as lines arrive. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<DaemonExit>;
  private exit: DaemonExit | undefined;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(readonly child: ChildProcess) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (source === null) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (raw) => {
        const line = parseLogLine(raw, stream, performance.now());
        this.lines.push(line);
        for (const listener of this.listeners) listener(line);
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolve with the first line at index >= `from` matching `match`; reject at the deadline or
   * when the daemon exits first.
   */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs: number, from = 0, what = 'a log line'): Promise<LogLine> {
    const seen = this.lines.slice(from).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const finish = (error: Error | undefined, line?: LogLine): void => {
        clearTimeout(timer);
        off();
        if (error !== undefined) reject(error);
        else resolve(line as LogLine);
      };
      const off = this.onLine((line) => {
        if (match(line)) finish(undefined, line);
      });
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`)), timeoutMs);
      void this.exited.then((exit) => {
        if (this.lines.slice(from).some(match)) return;
        finish(new Error(`daemon exited (${exit.code ?? exit.signal}) before ${what}\n${this.tail()}`));
      });
    });
  }

  /** Send `signal` and wait for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<DaemonExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    if (result !== 'timeout') return result;
    this.child.kill('SIGKILL');
    await this.exited;
    throw new Error(`daemon did not exit within ${timeoutMs} ms of ${signal}; killed\n${this.tail()}`);
  }

  /** The last `n` output lines, for failure messages. */
  tail(n = 30): string {
    return this.lines
      .slice(-n)
      .map((l) => `  ${l.stream === 'stderr' ? 'err' : 'out'}| ${l.raw}`)
      .join('\n');
  }
}

/** A decision of a check: `changed to UP` / `changed to DOWN` (the records the Python daemon logs). */
export function isTransitionLine(line: LogLine): boolean {
  return /^changed to (UP|DOWN)$/.test(line.message ?? '');
}

/** The raw transition lines (isTransitionLine) in `lines` from index `from` on. */
export function transitionsSince(lines: readonly LogLine[], from: number): string[] {
  return lines
    .slice(from)
    .filter(isTransitionLine)
    .map((l) => l.raw);
}

/**
 * Match the log line of a decision for `service`: `changed to UP|DOWN`, or for DOWN also the
 * address leaving its interface (`status DOWN because … isn't assigned …`, logged at every such
 * check: the first one after a point is the decision).
 */
export function statusLine(service: string, status: 'UP' | 'DOWN'): (line: LogLine) => boolean {
  return (line) => {
    if (line.service !== service) return false;
    const m = line.message ?? '';
    return m === `changed to ${status}` || (status === 'DOWN' && m.startsWith('status DOWN because '));
  };
}

/** Wall-clock time (ms since the epoch) of a text log line's local-time stamp, or undefined. */
export function logLineWallTime(raw: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) /.exec(raw);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, s, ms).getTime();
}

/** A parsed "check thread N (svc, ...) <reason>; restarting it ..." line (a check thread died). */
export interface ThreadExit {
  readonly threadId: number;
  readonly services: readonly string[];
  readonly reason: string;
}

const THREAD_EXIT = /^check thread (\d+) \(([^)]*)\) (.*); restarting it with the last decided state, routes unchanged$/;

export function parseThreadExit(line: LogLine): ThreadExit | undefined {
  if (line.level !== 'ERROR' || line.service !== 'MainThread' || line.message === undefined) return undefined;
  const m = THREAD_EXIT.exec(line.message);
  if (m === null) return undefined;
  return { threadId: Number(m[1]), services: (m[2] ?? '').split(', '), reason: m[3] ?? '' };
}

/** Match the log line that reports the death of check thread `threadId`. */
export function threadExitLine(threadId: number): (line: LogLine) => boolean {
  return (line) => parseThreadExit(line)?.threadId === threadId;
}
