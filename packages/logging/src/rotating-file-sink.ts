import { closeSync, existsSync, fstatSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import type { LogSink } from './logger';
import type { LevelName } from './log-record';

/**
 * A log file rotated by size like Python's RotatingFileHandler: before a line that would make
 * the file reach `maxBytes`, file.N-1 → file.N … file → file.1, keeping `backups` old files
 * (maxBytes or backups 0: never rotate). Writes are synchronous and never throw: a full disk
 * or a deleted file loses lines, counts them, and says so once it can write again. A file
 * deleted or moved away (logrotate) is noticed within a second and opened anew.
 */
export class RotatingFileSink implements LogSink {
  #fd: number | null = null;
  #size = 0;
  #lost = 0;
  #lastError: string | null = null;
  #lastCheck = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly backups: number,
    private readonly report: (message: string) => void = (m) => void process.stderr.write(`${m}\n`),
    /** How often to look whether the file was deleted or moved away. */
    private readonly recheckMs = 1000,
  ) {}

  /** Lines lost since start (disk full, file not writable). */
  get lost(): number {
    return this.#lost;
  }

  write(line: string, _level?: LevelName): void {
    try {
      this.#ensureOpen();
      const bytes = Buffer.byteLength(line);
      if (this.maxBytes > 0 && this.backups > 0 && this.#size > 0 && this.#size + bytes >= this.maxBytes) this.#rotate();
      writeSync(this.#fd as number, line);
      this.#size += bytes;
      if (this.#lastError !== null) {
        this.report(`anycast-healthchecker: logging to ${this.path} works again; ${this.#lost} log lines were lost (${this.#lastError})`);
        this.#lastError = null;
      }
    } catch (error) {
      this.#lost += 1;
      const why = (error as Error).message;
      if (this.#lastError === null) this.report(`anycast-healthchecker: cannot write log file ${this.path}: ${why}; log lines are lost until it works again`);
      this.#lastError = why;
      this.#close();
    }
  }

  close(): void {
    this.#close();
  }

  #ensureOpen(): void {
    const now = Date.now();
    if (this.#fd !== null && now - this.#lastCheck >= this.recheckMs) {
      this.#lastCheck = now;
      // Deleted or moved away: reopen at the configured path.
      if (fstatSync(this.#fd).nlink === 0 || !existsSync(this.path)) this.#close();
    }
    if (this.#fd === null) {
      this.#fd = openSync(this.path, 'a', 0o640);
      this.#size = fstatSync(this.#fd).size;
      this.#lastCheck = now;
    }
  }

  #rotate(): void {
    this.#close();
    for (let i = this.backups - 1; i >= 1; i -= 1) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    if (existsSync(this.path) && statSync(this.path).size > 0) renameSync(this.path, `${this.path}.1`);
    this.#ensureOpen();
  }

  #close(): void {
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = null;
  }
}
