import { monotonicMs } from '@ahc/protocol';

/**
 * The main thread's own liveness. Checks run in their threads whatever happens here, but BIRD
 * updates, the watchdog and the status socket all live on this event loop: when it is blocked,
 * that must show (status, logs).
 */
export interface EventLoopLag {
  /** Lag of the last sample (ms). */
  readonly lagMs: number;
  /** Largest lag in the last minute (ms). */
  readonly maxLagMs: number;
  /** The last sample was late by more than the blocked threshold. */
  readonly blocked: boolean;
}

const SAMPLE_MS = 250;
const BLOCKED_MS = 1000;
const WINDOW_MS = 60_000;

export class EventLoopMonitor {
  #timer: NodeJS.Timeout | undefined;
  #expected = 0;
  #lag = 0;
  #samples: Array<{ at: number; lag: number }> = [];

  constructor(private readonly onBlocked: (lagMs: number) => void) {}

  start(): void {
    this.#expected = monotonicMs() + SAMPLE_MS;
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  get lag(): EventLoopLag {
    const now = monotonicMs();
    this.#samples = this.#samples.filter((s) => now - s.at <= WINDOW_MS);
    // A loop blocked right now has not sampled yet: count the time since the expected tick.
    const current = Math.max(this.#lag, now - this.#expected);
    return {
      lagMs: Math.max(0, Math.round(current)),
      maxLagMs: Math.round(Math.max(current, ...this.#samples.map((s) => s.lag))),
      blocked: current > BLOCKED_MS,
    };
  }

  #sample(): void {
    const now = monotonicMs();
    this.#lag = Math.max(0, now - this.#expected);
    this.#samples.push({ at: now, lag: this.#lag });
    if (this.#lag > BLOCKED_MS) this.onBlocked(this.#lag);
    this.#expected = now + SAMPLE_MS;
  }
}
