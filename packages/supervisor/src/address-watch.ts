import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describeError } from '@ahc/errors';
import { monotonicMs } from '@ahc/protocol';
import { AddressTable, LineSplitter, parseAddressLine, parseDump } from './address-lines';
import type { AddressDiff, AddressEntry, AddressLine } from './address-lines';
import { backoffDelay } from './backoff';
import type { BackoffPolicy } from './backoff';

/**
 * Where the interface checks' answers come from (docs/design.md, "Address checks: one kernel
 * subscription"): `events` from the monitor (`ahc-spawn --watch-addresses`, or
 * `ip -o monitor address` without the helper); `polling` a dump every second while the
 * monitor is down; `per-check` no `ip` at all, every worker reads getifaddrs at each check;
 * `starting` before the first dump.
 */
export type AddressSource = 'starting' | 'events' | 'polling' | 'per-check';

export interface AddressWatchSnapshot {
  readonly source: AddressSource;
  readonly ipPath: string | null;
  /** What the events come from: `ahc-spawn --watch-addresses` or `ip -o monitor address`. */
  readonly monitor: string;
  /** The running monitor, if any. */
  readonly monitorPid: number | null;
  /** Times the monitor was started again after it died. */
  readonly restarts: number;
  /** Wall time (ISO) the source became what it is. */
  readonly since: string;
  /** Why the monitor last died or a dump last failed; null if never. */
  readonly lastProblem: string | null;
}

export interface AddressWatchLog {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
}

export interface AddressWatchOptions {
  readonly log: AddressWatchLog;
  /** The table holds real data for the first time. */
  readonly onKnown: () => void;
  /** The table changed (after `onKnown`). */
  readonly onChange: (diff: AddressDiff) => void;
  /** The `ip` to run: undefined searches PATH then the usual directories; null means none (tests). */
  readonly ipPath?: string | null;
  /**
   * The monitor's argv, a program that prints `ip -o monitor address` lines and dies with the
   * daemon, and its name in messages. Undefined: `ip -o monitor address` itself, through
   * `setpriv --pdeathsig` where that works.
   */
  readonly monitor?: { readonly argv: readonly [string, ...string[]]; readonly name: string };
  readonly pollIntervalMs?: number;
  readonly restartBackoff?: BackoffPolicy;
  readonly dumpTimeoutMs?: number;
  /** How long to wait for the monitor's netlink subscription before dumping anyway. */
  readonly subscribeWaitMs?: number;
}

/** A monitor that died is started again after 1 s, doubling to 30 s; one that ran this long resets it. */
export const MONITOR_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30_000 };
const MONITOR_STABLE_MS = 30_000;
const FALLBACK_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** `ip` in PATH, then /usr/sbin, /sbin, /usr/bin, /bin (a daemon's PATH often lacks the sbin ones). */
export function findIp(path = process.env.PATH ?? ''): string | null {
  return findProgram('ip', path);
}

function findProgram(name: string, path = process.env.PATH ?? ''): string | null {
  const dirs = [...path.split(delimiter).filter((d) => d !== ''), ...FALLBACK_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * util-linux `setpriv --pdeathsig KILL --`, if it works here: the monitor then dies with the
 * daemon even when the daemon is SIGKILLed (otherwise an `ip monitor` whose reader is gone lives
 * on until the next address change makes its write fail). setpriv execs, so the pid is the monitor's.
 */
function deathSignalPrefix(): string[] {
  const setpriv = findProgram('setpriv');
  if (setpriv === null) return [];
  const probe = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 2000 });
  return probe.status === 0 ? [setpriv, '--pdeathsig', 'KILL', '--'] : [];
}

interface Monitor {
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** Lines that came while the dump ran, applied after it in order; null once live. */
  buffered: AddressLine[] | null;
  stderr: string;
  spawned: boolean;
}

/**
 * The main thread's one subscription to the kernel's address changes: a long-lived
 * monitor (`ahc-spawn --watch-addresses`), a full `ip -o address show` whenever it (re)starts, a table kept from
 * both, a dump every second while the monitor is down, restarts with backoff. The table changes
 * only on real data: a failed dump or a dead monitor change nothing.
 */
export class AddressWatch {
  readonly table = new AddressTable();
  #source: AddressSource = 'starting';
  #since = new Date();
  #ip: string | null = null;
  #monitor: Monitor | null = null;
  #restarts = 0;
  #failures = 0;
  #lastProblem: string | null = null;
  #known = false;
  #stopped = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #dumpFailureLogged = false;
  /** What the monitor is started through (setpriv), found once. */
  #prefix: string[] | null = null;
  /** Dumps run one at a time, so an old dump never lands after a newer one. */
  #dumpChain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AddressWatchOptions) {}

  get #monitorName(): string {
    return this.options.monitor?.name ?? 'ip -o monitor address';
  }

  get source(): AddressSource {
    return this.#source;
  }

  snapshot(): AddressWatchSnapshot {
    return {
      source: this.#source,
      ipPath: this.#ip,
      monitor: this.#monitorName,
      monitorPid: this.#monitor !== null && this.#monitor.buffered === null ? (this.#monitor.child.pid ?? null) : null,
      restarts: this.#restarts,
      since: this.#since.toISOString(),
      lastProblem: this.#lastProblem,
    };
  }

  /** Resolves once the first dump was applied (or the watch settled on polling or per-check). */
  async start(): Promise<void> {
    this.#ip = this.options.ipPath === undefined ? findIp() : this.options.ipPath;
    if (this.#ip === null) {
      this.#perCheck('no `ip` (iproute2) in PATH, /usr/sbin, /sbin, /usr/bin or /bin');
      return;
    }
    try {
      accessSync(this.#ip, fsConstants.X_OK);
    } catch (error) {
      this.#perCheck(`cannot run ${this.#ip}: ${describeError(error)}`);
      return;
    }
    await this.#startMonitor(true);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#restartTimer);
    const m = this.#monitor;
    this.#monitor = null;
    m?.child.kill('SIGKILL');
  }

  #setSource(source: AddressSource): void {
    if (this.#source === source) return;
    this.#source = source;
    this.#since = new Date();
  }

  #perCheck(why: string): void {
    this.#lastProblem = why;
    this.#setSource('per-check');
    this.options.log.warning(
      `address watch: ${why}; every check reads the interface's addresses itself (getifaddrs), ` +
        'where an address on an interface that is down counts as not assigned',
    );
  }

  async #startMonitor(initial: boolean): Promise<void> {
    const ip = this.#ip;
    if (ip === null || this.#stopped) return;
    let child: ChildProcess;
    try {
      const argv = this.options.monitor?.argv ?? [...(this.#prefix ??= deathSignalPrefix()), ip, '-o', 'monitor', 'address'];
      const [program, ...args] = argv;
      child = spawn(program ?? ip, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // spawn() throws only for arguments it refuses; 'error' reports what the system refused.
      if (initial) this.#perCheck(`cannot run ${ip}: ${describeError(error)}`);
      return;
    }
    const m: Monitor = { child, startedAt: monotonicMs(), buffered: [], stderr: '', spawned: false };
    this.#monitor = m;
    const splitter = new LineSplitter();
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      m.stderr = (m.stderr + chunk).slice(-500);
    });
    child.stdout?.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) this.#line(m, line);
    });
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (error) => resolve(error));
    });
    child.on('error', (error) => this.#died(m, `failed: ${describeError(error)}`));
    child.on('exit', (code, signal) => {
      const said = m.stderr.trim() === '' ? '' : ` (stderr: ${m.stderr.trim()})`;
      this.#died(m, signal !== null ? `was killed by ${signal}${said}` : `exited with code ${code}${said}`);
    });
    if (spawned !== null) {
      if (initial) {
        if (this.#monitor === m) this.#monitor = null;
        this.#perCheck(`cannot run ${ip}: ${describeError(spawned)}`);
      } else {
        this.#died(m, `could not be started again: ${describeError(spawned)}`, true);
      }
      return;
    }
    m.spawned = true;
    await this.#subscribed(m);
    if (this.#monitor !== m) return;
    const dumped = await this.#dumpAndApply(m);
    if (this.#monitor !== m) return;
    if (!dumped) {
      // Without the dump the events have no base: treat it as the monitor failing.
      this.#died(m, 'ran, but `ip -o address show` failed');
      return;
    }
    const buffered = m.buffered ?? [];
    m.buffered = null;
    for (const line of buffered) this.#applyLine(line);
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#dumpFailureLogged = false;
    const wasPolling = this.#source === 'polling';
    this.#setSource('events');
    if (wasPolling) this.options.log.info(`address watch: events are back, \`${this.#monitorName}\` runs again (pid ${child.pid})`);
    else this.options.log.debug(`address watch: \`${this.#monitorName}\` runs (pid ${child.pid}), ${this.table.size} addresses`);
  }

  /** Wait (bounded) until the monitor's netlink socket is subscribed, so no change falls between it and the dump. */
  async #subscribed(m: Monitor): Promise<void> {
    const pid = m.child.pid;
    if (pid === undefined) return;
    const deadline = monotonicMs() + (this.options.subscribeWaitMs ?? 500);
    const pattern = new RegExp(`^\\S+\\s+0\\s+${pid}\\s+([0-9a-f]+)\\s`, 'm');
    while (this.#monitor === m && monotonicMs() < deadline) {
      try {
        const groups = pattern.exec(readFileSync('/proc/net/netlink', 'utf8'))?.[1];
        if (groups !== undefined && Number.parseInt(groups, 16) !== 0) return;
      } catch {
        return; // no /proc: dump at once
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  #line(m: Monitor, line: string): void {
    if (this.#monitor !== m) return;
    const parsed = parseAddressLine(line);
    if (parsed === null) {
      this.#died(m, `printed a line that is not an address: ${JSON.stringify(line.slice(0, 200))}`);
      return;
    }
    if (m.buffered !== null) m.buffered.push(parsed);
    else this.#applyLine(parsed);
  }

  #applyLine(line: AddressLine): void {
    const diff = this.table.apply(line);
    if (diff.added.length > 0 || diff.removed.length > 0) this.options.onChange(diff);
  }

  /** The monitor is gone or not to be trusted: poll, and start it again with backoff. */
  #died(m: Monitor, what: string, quiet = false): void {
    if (this.#monitor !== m || this.#stopped) return;
    this.#monitor = null;
    if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    const problem = `\`${this.#monitorName}\` (pid ${m.child.pid ?? '-'}) ${what}`;
    this.#lastProblem = problem;
    if (monotonicMs() - m.startedAt >= MONITOR_STABLE_MS) this.#failures = 0;
    this.#failures += 1;
    const delay = backoffDelay(this.#failures, this.options.restartBackoff ?? MONITOR_BACKOFF);
    const interval = this.options.pollIntervalMs ?? 1000;
    if (this.#source !== 'polling') {
      this.options.log.warning(
        `address watch: ${problem}; polling \`ip -o address show\` every ${interval / 1000}s until it is back (next start in ${delay} ms)`,
      );
    } else if (!quiet) {
      this.options.log.debug(`address watch: ${problem}; next start in ${delay} ms`);
    }
    const wasPolling = this.#source === 'polling';
    this.#setSource('polling');
    // A first dump at once: what changed since the last event is seen now, not a second later.
    if (!wasPolling) void this.#dumpAndApply(null);
    this.#pollTimer ??= setInterval(() => {
      if (this.#source === 'polling') void this.#dumpAndApply(null);
    }, interval);
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#restarts += 1;
      this.#startMonitor(false).catch((error: unknown) =>
        this.options.log.warning(`address watch: restart failed: ${describeError(error)}`),
      );
    }, delay);
  }

  /**
   * One full dump into the table. `m`: the monitor this dump is the base of (null: a poll). A poll
   * that ends after the monitor came back is dropped: the monitor's own dump and events are newer.
   */
  #dumpAndApply(m: Monitor | null): Promise<boolean> {
    const run = this.#dumpChain.then(async () => {
      if (this.#stopped || (m !== null && this.#monitor !== m)) return false;
      if (m === null && this.#source !== 'polling') return false;
      const entries = await this.#dump();
      if (this.#stopped || (m !== null && this.#monitor !== m)) return false;
      if (m === null && this.#source !== 'polling') return false;
      if (typeof entries === 'string') {
        this.#lastProblem = `\`ip -o address show\` ${entries}`;
        if (!this.#dumpFailureLogged) {
          this.#dumpFailureLogged = true;
          this.options.log.warning(`address watch: \`ip -o address show\` ${entries}; the addresses known stay as they were`);
        }
        return false;
      }
      const diff = this.table.replaceAll(entries);
      if (!this.#known) {
        this.#known = true;
        this.options.onKnown();
      } else if (diff.added.length > 0 || diff.removed.length > 0) {
        this.options.onChange(diff);
      }
      return true;
    });
    this.#dumpChain = run.catch(() => undefined);
    return run;
  }

  /** The entries of `ip -o address show`, or why not. */
  #dump(): Promise<AddressEntry[] | string> {
    const ip = this.#ip;
    if (ip === null) return Promise.resolve('cannot run: no ip');
    return new Promise((resolve) => {
      execFile(
        ip,
        ['-o', 'address', 'show'],
        { timeout: this.options.dumpTimeoutMs ?? 5000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' },
        (error, stdout) => {
          if (error !== null) {
            resolve(`failed: ${describeError(error).trim()}`);
            return;
          }
          const entries = parseDump(stdout);
          resolve(entries ?? 'printed a line that is not an address');
        },
      );
    });
  }
}
