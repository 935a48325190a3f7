import { backoffDelay } from './backoff';
import type { BackoffPolicy } from './backoff';
import { NO_GATHER, nextStepAt } from './gather';
import type { GatherPolicy, PendingRequests } from './gather';

/** gathering: requests of a burst wait for it to go quiet; waiting-retry: a step failed. */
export type ConvergeState = 'idle' | 'gathering' | 'running' | 'waiting-retry' | 'closed';

export interface ConvergeLoopOptions {
  /** Called after a failed step with the number of failures in a row and the delay before the retry. */
  readonly onRetry?: (failures: number, delayMs: number) => void;
  /** How requests that come in a burst are gathered into one step (default: none, every request at once). */
  readonly gather?: GatherPolicy;
  /** Monotonic clock in milliseconds (tests pass a fake one). */
  readonly now?: () => number;
}

/**
 * Runs `step` until it reports success, coalescing requests: a lone request runs at once; requests
 * while a step is running are served together by one more step; requests that come in a burst
 * are gathered until the burst goes quiet (see gather.ts), never longer than the policy's hold.
 * Never two steps at once. A failed step is retried with capped exponential backoff; a new lone
 * request during the wait runs at once (it may carry the fix), keeping the backoff count.
 */
export class ConvergeLoop {
  #state: ConvergeState = 'idle';
  #pending: PendingRequests | null = null;
  /** The latest request a step has served (or is serving). */
  #previousAt: number | null = null;
  /** How long the last step took (the gather policy holds lone requests after a slow one). */
  #lastStepMs: number | null = null;
  /** When the work of a failed step is retried, null when nothing failed. */
  #retryAt: number | null = null;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #idleWaiters: Array<() => void> = [];
  readonly #onRetry: (failures: number, delayMs: number) => void;
  readonly #gather: GatherPolicy;
  readonly #now: () => number;

  constructor(
    private readonly step: () => Promise<boolean>,
    private readonly policy: BackoffPolicy,
    options: ConvergeLoopOptions = {},
  ) {
    this.#onRetry = options.onRetry ?? (() => undefined);
    this.#gather = options.gather ?? NO_GATHER;
    this.#now = options.now ?? (() => performance.now());
  }

  get state(): ConvergeState {
    return this.#state;
  }

  /** Consecutive failed steps so far (0 once converged). */
  get failures(): number {
    return this.#failures;
  }

  request(): void {
    if (this.#state === 'closed') return;
    const now = this.#now();
    const p = this.#pending;
    this.#pending =
      p === null
        ? { firstAtMs: now, lastAtMs: now, count: 1, previousAtMs: this.#previousAt }
        : { ...p, lastAtMs: now, count: p.count + 1 };
    if (this.#state === 'running') return; // served when the running step is over
    this.#schedule();
  }

  /**
   * The requests served so far do not make the next one part of a burst: the start-up repair's
   * step is not a decision, and the first service to decide after it is applied at once, as any
   * lone decision is (a slow last step still holds it: gather.ts).
   */
  endBurst(): void {
    this.#previousAt = null;
  }

  /** Resolves when the steps running now are over, successful or not (a retry may be scheduled). */
  async settled(): Promise<void> {
    await this.#running;
  }

  /** Resolves when no step is running or pending (converged or closed). */
  whenIdle(): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stop retrying and wait (at most deadlineMs) for a running step to end. */
  async close(deadlineMs = 5000): Promise<void> {
    this.#clearTimer();
    const running = this.#running;
    this.#state = 'closed';
    this.#settleIdle();
    if (running !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        running,
        new Promise<void>((r) => {
          timer = setTimeout(r, deadlineMs);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** When the next step is due: gathered requests or a retry, whichever comes first; null if none. */
  #dueAt(): number | null {
    const gathered = this.#pending === null ? null : nextStepAt(this.#pending, this.#gather, this.#lastStepMs);
    if (gathered === null) return this.#retryAt;
    return this.#retryAt === null ? gathered : Math.min(gathered, this.#retryAt);
  }

  /** Not running: start a step now, arm the timer for the next one, or go idle. */
  #schedule(): void {
    this.#clearTimer();
    const at = this.#dueAt();
    if (at === null) {
      this.#state = 'idle';
      this.#settleIdle();
      return;
    }
    const wait = at - this.#now();
    if (wait <= 0) {
      this.#running = this.#run();
      return;
    }
    this.#state = this.#retryAt === null ? 'gathering' : 'waiting-retry';
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state !== 'closed') this.#schedule();
    }, Math.ceil(wait));
  }

  async #run(): Promise<void> {
    this.#state = 'running';
    for (;;) {
      // This step serves every request so far, and the retry if one was due.
      if (this.#pending !== null) this.#previousAt = this.#pending.lastAtMs;
      this.#pending = null;
      this.#retryAt = null;
      let ok = false;
      const startedAt = this.#now();
      try {
        ok = await this.step();
      } catch {
        ok = false;
      }
      this.#lastStepMs = this.#now() - startedAt;
      if ((this.#state as ConvergeState) === 'closed') return;
      if (ok) {
        this.#failures = 0;
      } else {
        this.#failures += 1;
        const delay = backoffDelay(this.#failures, this.policy);
        this.#onRetry(this.#failures, delay);
        this.#retryAt = this.#now() + delay;
      }
      const at = this.#dueAt();
      if (at === null || at > this.#now()) break;
    }
    this.#schedule();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #settleIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
