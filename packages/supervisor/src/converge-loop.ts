import { backoffDelay } from './backoff';
import type { BackoffPolicy } from './backoff';

export type ConvergeState = 'idle' | 'running' | 'waiting-retry' | 'closed';

/**
 * Runs `step` until it reports success, coalescing requests: a request while a step is running
 * marks the loop dirty and one more step runs after it (however many requests came in); a lone
 * request runs at once. A failed step is retried with capped exponential backoff; a new request
 * during the wait runs at once (it may carry the fix), keeping the backoff count.
 */
export class ConvergeLoop {
  #state: ConvergeState = 'idle';
  #dirty = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #idleWaiters: Array<() => void> = [];

  constructor(
    private readonly step: () => Promise<boolean>,
    private readonly policy: BackoffPolicy,
    private readonly onRetry: (failures: number, delayMs: number) => void = () => undefined,
  ) {}

  get state(): ConvergeState {
    return this.#state;
  }

  /** Consecutive failed steps so far (0 once converged). */
  get failures(): number {
    return this.#failures;
  }

  request(): void {
    if (this.#state === 'closed') return;
    this.#dirty = true;
    if (this.#state === 'running') return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#running = this.#run();
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
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const running = this.#running;
    this.#state = 'closed';
    this.#settleIdle();
    if (running !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((r) => { timer = setTimeout(r, deadlineMs); })]);
      clearTimeout(timer);
    }
  }

  async #run(): Promise<void> {
    this.#state = 'running';
    while (this.#dirty && (this.#state as ConvergeState) !== 'closed') {
      this.#dirty = false;
      let ok = false;
      try {
        ok = await this.step();
      } catch {
        ok = false;
      }
      if ((this.#state as ConvergeState) === 'closed') return;
      if (!ok) {
        this.#failures += 1;
        const delay = backoffDelay(this.#failures, this.policy);
        this.onRetry(this.#failures, delay);
        this.#state = 'waiting-retry';
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.request();
        }, delay);
        return;
      }
      this.#failures = 0;
    }
    if ((this.#state as ConvergeState) !== 'closed') this.#state = 'idle';
    this.#settleIdle();
  }

  #settleIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
