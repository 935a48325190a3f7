import { readFileSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ERR } from '@ahc/errors';
import type { Logger } from '@ahc/logging';
import type { DrainFileContent } from './drains';

/**
 * The drain file's text: one service name per line; blank lines and lines starting with `#` are
 * skipped. A file with no names drains every service (`touch FILE`). Pure.
 */
export function parseDrainFile(text: string): DrainFileContent {
  const names = [
    ...new Set(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    ),
  ];
  return names.length === 0 ? { kind: 'all' } : { kind: 'services', names };
}

function sameContent(a: DrainFileContent, b: DrainFileContent): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind !== 'services' || (b.kind === 'services' && a.names.join('\n') === b.names.join('\n'));
}

function describeContent(c: DrainFileContent): string {
  return c.kind === 'absent' ? 'absent' : c.kind === 'all' ? 'every service' : c.names.join(', ');
}

/** What status shows of the drain file. */
export interface DrainFileState {
  readonly path: string;
  /** `absent`, `all`, or the services it names. */
  readonly content: DrainFileContent;
  /** `events`: the directory is watched; `polling`: it cannot be (missing directory), re-read every recheck. */
  readonly watch: 'events' | 'polling';
  readonly lastProblem: string | null;
}

export interface DrainFileWatchOptions {
  readonly path: string;
  readonly log: Logger;
  /** The file's content changed (or was read at start, then with the file's modification time). */
  readonly onChange: (content: DrainFileContent, since?: Date) => void;
  /** Names in the file that are not configured services (logged, ignored). */
  readonly unknown: (names: readonly string[]) => readonly string[];
  /** The safety re-read, and the retry of a watch that could not be set up (default 2 s). */
  readonly recheckMs?: number;
}

export const DRAIN_FILE_RECHECK_MS = 2000;

/**
 * Follows the drain file (docs/operations.md, "The drain file"): its directory is watched with
 * fs.watch, so a create, delete, rename or edit is applied at once, and the file is re-read every
 * few seconds besides (a watch can miss events: a directory replaced, an NFS mount). A missing
 * directory, an unreadable file or unknown names are logged, never fatal. A file that exists but
 * cannot be read drains every service: its existence is the request.
 */
export class DrainFileWatch {
  #content: DrainFileContent = { kind: 'absent' };
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pending = false;
  #closed = false;
  #lastProblem: string | null = null;
  #watchProblem: string | null = null;

  constructor(private readonly options: DrainFileWatchOptions) {}

  get content(): DrainFileContent {
    return this.#content;
  }

  state(): DrainFileState {
    return {
      path: this.options.path,
      content: this.#content,
      watch: this.#watcher === null ? 'polling' : 'events',
      lastProblem: this.#lastProblem ?? this.#watchProblem,
    };
  }

  /** Read the file once (before the first BIRD write at start) and start following it. */
  start(): void {
    const first = this.#read();
    this.#content = first.content;
    this.#report(first.content, null);
    this.options.onChange(first.content, first.mtime ?? undefined);
    this.#watch();
    this.#timer = setInterval(() => this.#recheck(), this.options.recheckMs ?? DRAIN_FILE_RECHECK_MS);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #recheck(): void {
    if (this.#watcher === null) this.#watch();
    this.#reread();
  }

  #watch(): void {
    const dir = dirname(this.options.path);
    const name = basename(this.options.path);
    try {
      const w = watch(dir, { persistent: false }, (_event, file) => {
        // Several events come for one change (a write, then a rename into place): read once.
        if (file !== null && file !== name) return;
        if (this.#pending) return;
        this.#pending = true;
        setImmediate(() => {
          this.#pending = false;
          this.#reread();
        });
      });
      w.on('error', (error) => {
        // The directory went away: fall back to the re-check until it is back.
        w.close();
        if (this.#watcher === w) this.#watcher = null;
        this.#watchProblem = `cannot watch ${dir}: ${error.message}`;
        this.options.log.warning(
          `${ERR.AHC_DRAIN_FILE}: ${this.#watchProblem}; the drain file is re-read every ${this.#recheckSeconds()} s`,
        );
        this.#reread();
      });
      this.#watcher = w;
      if (this.#watchProblem !== null) this.options.log.info(`watching ${dir} for the drain file ${this.options.path} again`);
      this.#watchProblem = null;
    } catch (error) {
      const why = `cannot watch ${dir} for the drain file ${this.options.path}: ${(error as Error).message}`;
      if (this.#watchProblem !== why)
        this.options.log.warning(
          `${ERR.AHC_DRAIN_FILE}: ${why}; it is re-read every ${this.#recheckSeconds()} s until the directory can be watched`,
        );
      this.#watchProblem = why;
    }
  }

  #recheckSeconds(): number {
    return (this.options.recheckMs ?? DRAIN_FILE_RECHECK_MS) / 1000;
  }

  #reread(): void {
    if (this.#closed) return;
    const next = this.#read();
    if (sameContent(next.content, this.#content)) return;
    const before = this.#content;
    this.#content = next.content;
    this.#report(next.content, before);
    this.options.onChange(next.content);
  }

  #report(content: DrainFileContent, before: DrainFileContent | null): void {
    const p = this.options.path;
    const log = this.options.log;
    if (content.kind === 'absent') {
      if (before !== null) log.info(`drain file ${p} is gone: its drains end`);
      return;
    }
    log.info(
      before === null || before.kind === 'absent'
        ? `drain file ${p} exists: it drains ${describeContent(content)}`
        : `drain file ${p} changed: it drains ${describeContent(content)} (was ${describeContent(before)})`,
    );
    if (content.kind === 'services') {
      const unknown = this.options.unknown(content.names);
      if (unknown.length > 0)
        log.warning(`${ERR.AHC_DRAIN_FILE}: drain file ${p} names ${unknown.join(', ')}, not configured service(s); ignored`);
    }
  }

  #read(): { content: DrainFileContent; mtime: Date | null } {
    const p = this.options.path;
    let text: string;
    let mtime: Date | null = null;
    try {
      mtime = statSync(p).mtime;
      text = readFileSync(p, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.#lastProblem = null;
        return { content: { kind: 'absent' }, mtime: null };
      }
      const why = `cannot read drain file ${p}: ${(error as Error).message}`;
      if (this.#lastProblem !== why)
        this.options.log.error(`${ERR.AHC_DRAIN_FILE}: ${why}; it exists, so every service is drained until it can be read or is removed`);
      this.#lastProblem = why;
      return { content: { kind: 'all' }, mtime };
    }
    this.#lastProblem = null;
    return { content: parseDrainFile(text), mtime };
  }
}
