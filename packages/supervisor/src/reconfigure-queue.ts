import { runReconfigure } from '@ahc/bird';
import type { ReconfigureOutcome } from '@ahc/bird';
import type { CommandLine } from '@ahc/command';

/**
 * One per distinct reconfigure command (BIRD 2 uses one `birdc configure` for both families):
 * never two runs at once; callers that ask while a run is in flight share the next run, which
 * starts as soon as the current one ends, so it sees every file written before it.
 */
export class ReconfigureQueue {
  #inFlight: Promise<ReconfigureOutcome> | null = null;
  #next: Promise<ReconfigureOutcome> | null = null;
  runs = 0;
  lastOutcome: ReconfigureOutcome | null = null;

  constructor(
    readonly command: CommandLine,
    readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  run(): Promise<ReconfigureOutcome> {
    if (this.#inFlight === null) return this.#start();
    if (this.#next === null) {
      this.#next = this.#inFlight.then(() => {
        this.#next = null;
        return this.#start();
      });
    }
    return this.#next;
  }

  #start(): Promise<ReconfigureOutcome> {
    this.runs += 1;
    const p = runReconfigure(this.command, { timeoutMs: this.timeoutMs, ...(this.signal ? { signal: this.signal } : {}) })
      .then((outcome) => {
        this.lastOutcome = outcome;
        return outcome;
      })
      .finally(() => {
        if (this.#inFlight === p) this.#inFlight = null;
      });
    this.#inFlight = p;
    return p;
  }
}
