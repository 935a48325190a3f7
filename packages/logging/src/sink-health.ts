import { writeSync } from 'node:fs';
import type { LevelName } from './log-record';

/**
 * How a sink tells the logger that it stopped taking lines and that it takes them again. The
 * logger delivers the message as a MainThread record to the sinks that still work, never to the
 * one that failed (docs/logging.md, "When a destination breaks").
 */
export interface SinkMonitor {
  /** The sink started losing lines: called once per episode. */
  failing(message: string, level: LevelName): void;
  /** The sink takes lines again (the notice is written there too). */
  recovered(message: string): void;
}

type Event =
  | { readonly kind: 'failing'; readonly message: string; readonly level: LevelName }
  | { readonly kind: 'recovered'; readonly message: string };

/**
 * The loss bookkeeping every sink shares: counts lost lines, turns the first loss of an episode
 * into one report and the first success after it into one recovery notice. Reports made before a
 * monitor is attached wait for it (the last few, so nothing grows).
 */
export class SinkHealth {
  #monitor: SinkMonitor | undefined;
  #pending: Event[] = [];
  #failing = false;
  #broken = false;
  #lostInEpisode = 0;
  #lost = 0;

  /** `dest` names the destination in reports: `stderr`, `log file /var/log/x.log`, ... */
  constructor(readonly dest: string) {}

  /** False from the first lost line of an episode until the sink works again. */
  get healthy(): boolean {
    return !this.#failing;
  }

  /** Lines lost since start. */
  get lost(): number {
    return this.#lost;
  }

  attach(monitor: SinkMonitor): void {
    this.#monitor = monitor;
    for (const e of this.#pending.splice(0)) this.#emit(e);
  }

  /** A write failed with `why` and may work later (disk full, server down). */
  failed(why: string): void {
    this.#lose(() => `cannot write log lines to ${this.dest}: ${why}; they are dropped and counted until it works again`, 'error');
  }

  /** A write failed for good (the reader of a pipe is gone): no recovery will follow. */
  broken(why: string): void {
    const first = !this.#broken;
    this.#broken = true;
    // Reported even when a stall was reported before: the stall will never end now.
    if (first) this.#failing = false;
    this.#lose(
      () => `cannot write log lines to ${this.dest}: ${why}; the reader is gone, its log lines are dropped and counted from now on`,
      'error',
    );
  }

  /** The destination does not keep up: `backlog` describes what is waiting. */
  stalled(backlog: string): void {
    this.#lose(() => `${this.dest} is not being read (${backlog}); log lines are dropped and counted until it drains`, 'warning');
  }

  /** A line was lost while the episode's report is out already (or the sink is broken). */
  lostOne(): void {
    this.#lost += 1;
    this.#lostInEpisode += 1;
  }

  /** A write worked: ends an episode with one notice. */
  ok(): void {
    if (!this.#failing || this.#broken) return;
    this.#failing = false;
    const n = this.#lostInEpisode;
    this.#lostInEpisode = 0;
    this.#emit({ kind: 'recovered', message: `writing log lines to ${this.dest} works again; ${n} log lines were lost` });
  }

  #lose(message: () => string, level: LevelName): void {
    this.lostOne();
    if (this.#failing) return;
    this.#failing = true;
    this.#emit({ kind: 'failing', message: message(), level });
  }

  #emit(e: Event): void {
    const m = this.#monitor;
    if (m === undefined) {
      if (this.#pending.length >= 4) this.#pending.shift();
      this.#pending.push(e);
      return;
    }
    try {
      if (e.kind === 'failing') m.failing(e.message, e.level);
      else m.recovered(e.message);
    } catch {
      // a report must never become a failure of its own
    }
  }
}

/**
 * Write all of `data` to `fd` (a regular file) with as many writeSync calls as it takes. Returns
 * the error that stopped it, with how much had been written by then (a partial line).
 */
export function writeFully(fd: number, data: Buffer): { written: number; error: Error | null } {
  let written = 0;
  try {
    while (written < data.length) {
      const n = writeSync(fd, data, written);
      if (n <= 0) return { written, error: new Error('short write') };
      written += n;
    }
  } catch (error) {
    return { written, error: error instanceof Error ? error : new Error(String(error)) };
  }
  return { written, error: null };
}

/**
 * A sink whose losses are kept by a SinkHealth: the part of the LogSink contract every sink
 * answers the same way (the logger reads `healthy` and attaches its monitor; status reads `lost`).
 */
export abstract class MonitoredSink {
  protected readonly health: SinkHealth;

  protected constructor(dest: string) {
    this.health = new SinkHealth(dest);
  }

  /** Lines lost since start. */
  get lost(): number {
    return this.health.lost;
  }

  get healthy(): boolean {
    return this.health.healthy;
  }

  monitor(monitor: SinkMonitor): void {
    this.health.attach(monitor);
  }
}
