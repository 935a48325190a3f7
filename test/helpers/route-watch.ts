// Continuous watch over what the network sees: every interval, the peer's routes and the node's
// prefix file, recording each poll where an expected prefix was missing. For tests that assert
// "the route never went away while X happened".
import { readFileSync } from 'node:fs';
import { delay } from './poll.js';
import { parsePrefixFile } from './prefix-file.js';

export interface RouteWatchInput {
  /** The peer's current routes (BirdPair.peerRoutes bound to a family). */
  readonly peerRoutes: () => Promise<Set<string>>;
  /** The prefix file the daemon writes. */
  readonly prefixFile: string;
  /** Prefixes that must be in both at every poll. */
  readonly prefixes: readonly string[];
  /** Time from one poll's start to the next's (default 20 ms). */
  readonly intervalMs?: number;
}

export interface RouteGap {
  /** performance.now() of the poll. */
  readonly at: number;
  readonly prefix: string;
  readonly where: 'peer' | 'prefix file';
}

export interface RouteWatchReport {
  readonly polls: number;
  readonly durationMs: number;
  /** Longest time between the starts of two successful polls. */
  readonly maxIntervalMs: number;
  readonly missing: readonly RouteGap[];
  /** Polls that could not read the peer or the file (message per failure). */
  readonly errors: readonly string[];
}

/** Polls until `stop()`; `stop()` waits for the poll in flight and returns the report. */
export class RouteWatch {
  readonly #missing: RouteGap[] = [];
  readonly #errors: string[] = [];
  readonly #started = performance.now();
  #polls = 0;
  #maxInterval = 0;
  #stopped = false;
  readonly #loop: Promise<void>;

  private constructor(private readonly input: RouteWatchInput) {
    this.#loop = this.#run();
  }

  static start(input: RouteWatchInput): RouteWatch {
    return new RouteWatch(input);
  }

  /** Gaps seen so far (the watch keeps going). */
  get missing(): readonly RouteGap[] {
    return this.#missing;
  }

  async stop(): Promise<RouteWatchReport> {
    this.#stopped = true;
    await this.#loop;
    return {
      polls: this.#polls,
      durationMs: performance.now() - this.#started,
      maxIntervalMs: this.#maxInterval,
      missing: [...this.#missing],
      errors: [...this.#errors],
    };
  }

  async #run(): Promise<void> {
    const interval = this.input.intervalMs ?? 20;
    let lastOk: number | undefined;
    while (!this.#stopped) {
      const at = performance.now();
      try {
        const [routes, listed] = await Promise.all([
          this.input.peerRoutes(),
          Promise.resolve().then(() => parsePrefixFile(readFileSync(this.input.prefixFile, 'utf8'))),
        ]);
        this.#polls += 1;
        if (lastOk !== undefined) this.#maxInterval = Math.max(this.#maxInterval, at - lastOk);
        lastOk = at;
        for (const prefix of this.input.prefixes) {
          if (!routes.has(prefix)) this.#missing.push({ at, prefix, where: 'peer' });
          if (!listed.includes(prefix)) this.#missing.push({ at, prefix, where: 'prefix file' });
        }
      } catch (error) {
        this.#errors.push(error instanceof Error ? error.message : String(error));
      }
      // Pacing between polls, not synchronisation: the next poll starts `interval` after this one did.
      await delay(Math.max(0, at + interval - performance.now()));
    }
  }
}
