import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ERR, describeError, errnoCode } from '@ahc/errors';
import { removeStaleTempFiles, writeFileAtomic } from '@ahc/fs';
import type { Logger } from '@ahc/logging';
import type { StateFileStatus } from '@ahc/status';
import { STATE_FILE_NAME, STATE_FORMAT, STATE_PROGRAM, decodeStateFile, encodeStateFile } from './state-file';
import type { ServiceStateEntry, StateDrainEntry, StateFile } from './state-file';
import { serviceEntries } from './state-restore';
import type { ServiceView } from './service-registry';

/** At most one write per this many ms: 1000 services deciding together are one write. */
export const STATE_WRITE_GATHER_MS = 200;
/** A write that keeps failing is reported at most this often. */
export const STATE_WARN_EVERY_MS = 60_000;

export interface StateStoreOptions {
  /** `state_dir`. */
  readonly dir: string;
  readonly log: Logger;
  /** The daemon's version and pidfile, written into the file (state-file.ts). */
  readonly version: string;
  readonly pidfile: string;
  /** The services as the registry has them now. */
  readonly services: () => readonly ServiceView[];
  /** Rewrite this often even without a change, so the file says the daemon was alive (ms). */
  readonly refreshMs: number;
  readonly gatherMs?: number;
  readonly warnEveryMs?: number;
  /** Wall clock (ms since the epoch); tests pass their own. */
  readonly now?: () => number;
}

export type StateStorePhase = 'new' | 'running' | 'disabled' | 'closed';

/**
 * What the status reply, the Nagios check and the metrics say of the state file: whether a
 * restart would find the services' decided states and the drains (docs/operations.md, "State
 * across restarts"). The status protocol's shape, field for field.
 */
export type StateStoreSnapshot = StateFileStatus;

/** What the store found at open(): a state, or nothing (missing, unreadable or not ours: reported). */
export type OpenedState = StateFile | null;

/**
 * The state directory and its one file: read once at start, then rewritten atomically (temp file,
 * fsync, rename) after every change, gathered so that a burst of changes is one write, and
 * refreshed every `refreshMs`. Writes run in the background and never hold anything up; a write
 * that fails is reported (at most once a minute) and the daemon runs on.
 */
export class StateStore {
  #phase: StateStorePhase = 'new';
  readonly path: string;
  #timer: NodeJS.Timeout | undefined;
  #refresh: NodeJS.Timeout | undefined;
  #writing: Promise<void> | null = null;
  #dirty = false;
  #lastWarnAt = -Infinity;
  #previous = new Map<string, ServiceStateEntry>();
  #drains: () => Readonly<Record<string, StateDrainEntry>> = () => ({});
  #withdrawnAtShutdown = false;
  #writes = 0;
  #failures = 0;
  #lastWrite: number | null = null;
  /** When the failures going on now began (the first failed write since the last that worked); null: none. */
  #failingSince: number | null = null;
  #lastProblem: string | null = null;
  /** open() found state_dir unusable (the phase moves on to `closed` at the stop; this stays). */
  #disabled = false;
  #started = false;
  readonly #now: () => number;

  constructor(private readonly options: StateStoreOptions) {
    this.path = join(options.dir, STATE_FILE_NAME);
    this.#now = options.now ?? Date.now;
  }

  get phase(): StateStorePhase {
    return this.#phase;
  }

  /** Files written so far (for tests and the status reply). */
  get writes(): number {
    return this.#writes;
  }

  /** Writes that failed so far. */
  get failures(): number {
    return this.#failures;
  }

  snapshot(): StateStoreSnapshot {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return {
      path: this.path,
      state: this.#disabled ? 'disabled' : this.#failingSince !== null ? 'failing' : 'ok',
      writes: this.#writes,
      failures: this.#failures,
      lastWrite: iso(this.#lastWrite),
      failingSince: iso(this.#failingSince),
      lastProblem: this.#lastProblem,
    };
  }

  /**
   * Make sure the directory exists (created with mode 0750 when missing) and read the file. Every
   * problem is logged and ends in null; none is fatal. Without a usable directory the store is
   * `disabled`: the daemon runs without persistence.
   */
  async open(): Promise<OpenedState> {
    const { dir, log } = this.options;
    try {
      const info = await stat(dir).catch(async (error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
        await mkdir(dir, { recursive: true, mode: 0o750 });
        await chmod(dir, 0o750); // whatever the umask
        log.info(`created the state directory ${dir}`);
        return stat(dir);
      });
      if (!info.isDirectory()) throw new Error('it exists and is not a directory');
    } catch (error) {
      this.#phase = 'disabled';
      this.#disabled = true;
      this.#lastProblem = `state_dir ${dir} cannot be used: ${describeError(error)}`;
      log.warning(
        `${ERR.AHC_STATE_FILE}: state_dir ${dir} cannot be used (${describeError(error)}); running without persistence: ` +
          'drains and decided states are not kept across a restart',
      );
      return null;
    }
    this.#phase = 'running';
    const stale = await removeStaleTempFiles(this.path);
    if (stale.length > 0) log.warning(`removed ${stale.length} temp file(s) an interrupted daemon left in ${dir}: ${stale.join(', ')}`);
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        log.info(`no state file ${this.path} yet: every service starts UNKNOWN, as the BIRD file has it`);
        return null;
      }
      log.warning(
        `${ERR.AHC_STATE_FILE}: cannot read the state file ${this.path} (${describeError(error)}); ignored, every service starts UNKNOWN`,
      );
      return null;
    }
    const decoded = decodeStateFile(text);
    if (!decoded.ok) {
      log.warning(`${ERR.AHC_STATE_FILE}: ignoring the state file ${this.path}: ${decoded.reason}; it is replaced at the next write`);
      return null;
    }
    return decoded.state;
  }

  /**
   * Start writing: `restored` seeds the entries that carry on (state-restore.ts), `drains` is
   * where the drains to persist come from (until a drain module is wired: the restored ones,
   * kept as they were). Writes a first file soon, then at every change and every `refreshMs`.
   */
  start(restored: ReadonlyMap<string, ServiceStateEntry>, drains: () => Readonly<Record<string, StateDrainEntry>>): void {
    if (this.#phase !== 'running') return;
    this.#started = true;
    this.#previous = new Map(restored);
    this.#drains = drains;
    this.#refresh = setInterval(() => this.changed(), Math.max(1000, this.options.refreshMs));
    this.#refresh.unref();
    this.changed();
  }

  /** Something to persist changed (a decision, a drain): written within gatherMs, with whatever else changed meanwhile. */
  changed(): void {
    if (this.#phase !== 'running' || !this.#started || this.#timer !== undefined) return;
    if (this.#writing !== null) {
      this.#dirty = true;
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, this.options.gatherMs ?? STATE_WRITE_GATHER_MS);
    this.#timer.unref();
  }

  /** The file as it would be written now. */
  collect(): StateFile {
    const now = this.#now();
    const services = serviceEntries(this.options.services(), this.#previous, now);
    this.#previous = services;
    const drains = this.#drains();
    return {
      program: STATE_PROGRAM,
      format: STATE_FORMAT,
      version: this.options.version,
      pidfile: this.options.pidfile,
      pid: process.pid,
      savedAt: new Date(now).toISOString(),
      withdrawnAtShutdown: this.#withdrawnAtShutdown,
      services: Object.fromEntries(services),
      ...(Object.keys(drains).length === 0 ? {} : { drains }),
    };
  }

  #flush(): void {
    this.#writing = this.#write().finally(() => {
      this.#writing = null;
      if (this.#dirty) {
        this.#dirty = false;
        this.changed();
      }
    });
  }

  async #write(): Promise<void> {
    try {
      await writeFileAtomic(this.path, encodeStateFile(this.collect()));
      this.#writes += 1;
      this.#lastWrite = this.#now();
      if (this.#failingSince !== null) this.options.log.info(`the state file ${this.path} is written again`);
      this.#failingSince = null;
      this.#lastProblem = null;
    } catch (error) {
      const now = this.#now();
      this.#failingSince ??= now;
      this.#failures += 1;
      this.#lastProblem = describeError(error);
      if (now - this.#lastWarnAt < (this.options.warnEveryMs ?? STATE_WARN_EVERY_MS)) return;
      this.#lastWarnAt = now;
      this.options.log.warning(
        `${ERR.AHC_STATE_FILE}: ${this.#lastProblem}; the daemon runs on, but drains and decided states are not kept ` +
          'across a restart until it can write again (said at most once a minute)',
      );
    }
  }

  /**
   * Stop the timers, wait for a write in flight, then write once more (the final moment the
   * daemon knew its states). `withdrawnAtShutdown`: the daemon withdrew its prefixes.
   */
  async close(options: { withdrawnAtShutdown?: boolean } = {}): Promise<void> {
    // Stopped before start(): the file is left as the previous daemon wrote it.
    if (this.#phase !== 'running' || !this.#started) {
      this.#phase = 'closed';
      return;
    }
    this.#phase = 'closed';
    clearTimeout(this.#timer);
    clearInterval(this.#refresh);
    this.#timer = undefined;
    this.#dirty = false;
    await this.#writing;
    this.#withdrawnAtShutdown = options.withdrawnAtShutdown ?? false;
    await this.#write();
  }
}
