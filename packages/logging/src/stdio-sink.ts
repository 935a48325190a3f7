import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { LogSink } from './logger';
import type { LevelName } from './log-record';
import { MonitoredSink, writeFully } from './sink-health';

export interface StdioSinkOptions {
  /** Bytes allowed to wait for a slow reader before lines are dropped (default 1 MiB). */
  readonly maxQueuedBytes?: number;
  /** For tests: write to this stream instead of process.stdout/stderr. */
  readonly stream?: Writable;
  /** For tests: write this regular file's descriptor directly instead of fd 1 or 2. */
  readonly fd?: number;
}

const DEFAULT_MAX_QUEUED = 1 << 20;

/**
 * stdout or stderr as a sink that can never stop the daemon:
 *
 * - a regular file (`>>file`) is written with writeSync; a failed write (disk full) loses the
 *   line and is reported once, the next write that works says how many were lost;
 * - a pipe or socket goes through Node's stream, which never blocks but queues without limit:
 *   above `maxQueuedBytes` waiting (a reader that stopped reading) lines are dropped and counted
 *   until the queue drains;
 * - an error on the stream (EPIPE: the reader is gone) ends it for good; every later line is
 *   counted, none is written. The 'error' listener is what keeps such an error from becoming an
 *   uncaught exception (Node ignores SIGPIPE, so the write itself fails with EPIPE).
 *
 * A terminal is written by Node in blocking mode, like every terminal program.
 */
export class StdioSink extends MonitoredSink implements LogSink {
  readonly #stream: Writable | null;
  readonly #write: (chunk: string, cb: (error?: Error | null) => void) => unknown;
  /** Set for a regular file: written directly, never through the stream. */
  readonly #fd: number | null;
  readonly #max: number;
  #broken = false;
  #partial = false;

  constructor(
    readonly name: 'stdout' | 'stderr',
    options: StdioSinkOptions = {},
  ) {
    super(name);
    this.#max = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED;
    let stream: Writable | null = options.stream ?? null;
    let fd: number | null = options.fd ?? null;
    if (stream === null && fd === null) {
      const n = name === 'stdout' ? 1 : 2;
      try {
        if (fstatSync(n).isFile()) fd = n;
      } catch {
        // not open: the stream below tells
      }
      try {
        stream = process[name];
      } catch {
        stream = null;
      }
    }
    this.#fd = fd;
    this.#stream = stream;
    // Bound now: a later replacement of process.stderr.write (stderr_file) does not redirect us.
    this.#write =
      stream === null ? () => undefined : (stream.write.bind(stream) as (chunk: string, cb: (error?: Error | null) => void) => unknown);
    if (stream !== null) {
      stream.on('error', (error: Error) => this.#onError(error));
      stream.on('drain', () => {
        if (!this.#broken) this.health.ok();
      });
    }
    if (stream === null && fd === null) this.#fail('not open');
  }

  write(line: string, _level?: LevelName): void {
    if (this.#broken) {
      this.health.lostOne();
      return;
    }
    if (this.#fd !== null) {
      this.#writeFile(this.#fd, line);
      return;
    }
    const stream = this.#stream;
    if (stream === null) return;
    if (stream.destroyed || stream.writableEnded) {
      this.#fail('the stream is closed');
      this.health.lostOne();
      return;
    }
    if (stream.writableLength >= this.#max) {
      this.health.stalled(`${Math.round(stream.writableLength / 1024)} KiB are waiting`);
      return;
    }
    try {
      this.#write(line, this.#afterWrite);
    } catch (error) {
      this.#onError(error as Error);
    }
  }

  /** One function for every write (no closure per line): a failed write ends the stream for us. */
  readonly #afterWrite = (error?: Error | null): void => {
    if (error !== null && error !== undefined) this.#onError(error);
  };

  #writeFile(fd: number, line: string): void {
    const { written, error } = writeFully(fd, Buffer.from(this.#partial ? `\n${line}` : line));
    if (error === null) {
      this.#partial = false;
      this.health.ok();
      return;
    }
    if (written > 0) this.#partial = true;
    this.health.failed(error.message);
  }

  #onError(error: Error): void {
    // A regular file is written directly; the stream's errors are other writers' (Node's own).
    if (this.#fd !== null) return;
    this.#fail((error as NodeJS.ErrnoException).code ?? error.message);
  }

  #fail(why: string): void {
    if (this.#broken) return;
    this.#broken = true;
    this.health.broken(why);
  }
}

const shared = new Map<'stdout' | 'stderr', StdioSink>();

/**
 * The process's one sink for stdout or stderr. Creating it is what makes errors on that stream
 * harmless, so the daemon takes both before it writes anything.
 */
export function stdioSink(name: 'stdout' | 'stderr'): StdioSink {
  let sink = shared.get(name);
  if (sink === undefined) {
    sink = new StdioSink(name);
    shared.set(name, sink);
  }
  return sink;
}
