// Deadline-bounded polling: the only way the e2e tier waits for something to happen.

export class PollTimeoutError extends Error {
  readonly code = 'AHC_TEST_POLL_TIMEOUT';
  constructor(what: string, timeoutMs: number, last: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${last === '' ? '' : `; last seen: ${last}`}`);
    this.name = 'PollTimeoutError';
  }
}

export interface PollOptions {
  /** What is awaited, for the timeout message. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Pause between attempts (default 20 ms). */
  readonly intervalMs?: number;
  /** Describes the last observed state for the timeout message. */
  readonly describe?: () => string | Promise<string>;
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Call `probe` until it returns something other than undefined, or throw PollTimeoutError at the
 * deadline. A probe that throws counts as "not yet" (its message is kept for the error).
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 20;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = '';
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (performance.now() >= deadline) {
      let last = lastError;
      if (options.describe !== undefined) {
        try {
          last = `${await options.describe()}${lastError === '' ? '' : ` (${lastError})`}`;
        } catch {
          // keep lastError
        }
      }
      throw new PollTimeoutError(options.what, options.timeoutMs, last);
    }
    await delay(Math.max(0, Math.min(interval, deadline - performance.now())));
  }
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
