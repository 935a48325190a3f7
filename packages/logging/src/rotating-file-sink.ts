import { describeError } from '@ahc/errors';
import { closeSync, existsSync, fstatSync, openSync, renameSync, statSync } from 'node:fs';
import type { LogSink } from './logger';
import type { LevelName } from './log-record';
import { MonitoredSink, writeFully } from './sink-health';

/**
 * A log file rotated by size like Python's RotatingFileHandler: before a line that would make
 * the file reach `maxBytes`, file.N-1 → file.N … file → file.1, keeping `backups` old files
 * (maxBytes or backups 0: never rotate). Writes are synchronous and never throw: a full disk,
 * a file that cannot be opened or renamed loses the line and counts it; the first loss is
 * reported once (through the logger's monitor) and the first write that works again says how
 * many were lost, in the file itself too. A line cut short by a full disk is ended before the
 * next one. A file deleted or moved away (logrotate) is noticed within a second and opened anew.
 */
export class RotatingFileSink extends MonitoredSink implements LogSink {
  #fd: number | null = null;
  #size = 0;
  #lastCheck = 0;
  #partial = false;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly backups: number,
    /** How often to look whether the file was deleted or moved away. */
    private readonly recheckMs = 1000,
  ) {
    super(`log file ${path}`);
  }

  write(line: string, _level?: LevelName): void {
    let fd: number;
    try {
      fd = this.#ensureOpen();
      const bytes = Buffer.byteLength(line);
      if (this.maxBytes > 0 && this.backups > 0 && this.#size > 0 && this.#size + bytes >= this.maxBytes) fd = this.#rotate();
    } catch (error) {
      this.#lose(error);
      return;
    }
    const data = Buffer.from(this.#partial ? `\n${line}` : line);
    const { written, error } = writeFully(fd, data);
    this.#size += written;
    if (error !== null) {
      if (written > 0) this.#partial = true;
      this.#lose(error);
      return;
    }
    this.#partial = false;
    this.health.ok();
  }

  close(): void {
    this.#close();
  }

  #lose(error: unknown): void {
    this.health.failed(describeError(error));
    // Reopened on the next write: the file may have been replaced meanwhile.
    this.#close();
  }

  #ensureOpen(): number {
    const now = performance.now(); // monotonic: a wall-clock step must not stop the re-check
    if (this.#fd !== null && now - this.#lastCheck >= this.recheckMs) {
      this.#lastCheck = now;
      // Deleted or moved away: reopen at the configured path.
      if (fstatSync(this.#fd).nlink === 0 || !existsSync(this.path)) this.#close();
    }
    if (this.#fd === null) {
      const fd = openSync(this.path, 'a', 0o640);
      try {
        this.#size = fstatSync(fd).size;
      } catch (error) {
        closeSync(fd);
        throw error;
      }
      this.#fd = fd;
      this.#lastCheck = now;
    }
    return this.#fd;
  }

  #rotate(): number {
    this.#close();
    for (let i = this.backups - 1; i >= 1; i -= 1) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    if (existsSync(this.path) && statSync(this.path).size > 0) renameSync(this.path, `${this.path}.1`);
    this.#partial = false;
    return this.#ensureOpen();
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
