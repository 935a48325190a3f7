import { configureStatusArgv, runReconfigure, waitForConfigureIdle } from '@ahc/bird';
import type { ReconfigureOutcome } from '@ahc/bird';
import { commandArgv, runCommand } from '@ahc/command';
import type { CommandLine, CommandRunner } from '@ahc/command';
import type { Logger } from '@ahc/logging';

export interface ReconfigureQueueOptions {
  readonly signal?: AbortSignal;
  /** For the wait's records (docs/log-records.md). */
  readonly log?: Pick<Logger, 'info' | 'warning'>;
  /** Between two `configure status` questions (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** How long to wait for BIRD at most (default 10 × the reconfigure timeout). */
  readonly waitDeadlineMs?: number;
  /** What starts birdc, asked at each run (the daemon switches to its spawn helper once that runs; default runCommand). */
  readonly runner?: () => CommandRunner;
}

/** How many reconfigure timeouts the daemon waits at most for BIRD to finish applying. */
export const APPLY_WAIT_FACTOR = 10;

/**
 * One per distinct reconfigure command (BIRD 2 uses one `birdc configure` for both families):
 * never two runs at once; callers that ask while a run is in flight share the next run, which
 * starts as soon as the current one ends, so it sees every file written before it.
 *
 * BIRD answers `Reconfiguration in progress` (or `... queueing new config`) when it is still
 * applying a configuration; BIRD 3 aborts when yet another one is queued over a queued one
 * (docs/bird.md). After such an answer the queue asks `birdc ... configure status` until BIRD
 * is done, and the next run waits for that before its `configure`; callers arriving during the
 * wait share that run. Commands that are not birdc cannot be asked and are run as before.
 */
export class ReconfigureQueue {
  #inFlight: Promise<ReconfigureOutcome> | null = null;
  #next: Promise<ReconfigureOutcome> | null = null;
  /** The in-flight run has started its command (callers now need the next run). */
  #configuring = false;
  /** Polling `configure status` after an in-progress answer, until BIRD is done; null when not. */
  #applying: Promise<void> | null = null;
  /** The current poll's INFO record was logged (once per wait). */
  #toldWait = false;
  readonly #statusArgv: string[] | null;
  readonly #signal: AbortSignal | undefined;
  readonly #log: Pick<Logger, 'info' | 'warning'> | undefined;
  readonly #pollIntervalMs: number;
  readonly #waitDeadlineMs: number;
  readonly #runner: () => CommandRunner;
  runs = 0;
  lastOutcome: ReconfigureOutcome | null = null;

  constructor(
    readonly command: CommandLine,
    readonly timeoutMs: number,
    options: ReconfigureQueueOptions = {},
  ) {
    this.#signal = options.signal;
    this.#log = options.log;
    this.#pollIntervalMs = options.pollIntervalMs ?? 50;
    this.#waitDeadlineMs = options.waitDeadlineMs ?? timeoutMs * APPLY_WAIT_FACTOR;
    this.#runner = options.runner ?? (() => runCommand);
    let argv: string[] | null;
    try {
      argv = commandArgv(command);
    } catch {
      argv = null; // runReconfigure reports the invalid command line
    }
    this.#statusArgv = argv === null ? null : configureStatusArgv(argv);
  }

  /** True while BIRD said it is still applying a configuration of ours and has not said it is done. */
  get applying(): boolean {
    return this.#applying !== null;
  }

  /** Resolves once BIRD is done applying (at once when it is not known to be busy). Never rejects. */
  settle(): Promise<void> {
    if (this.#applying === null) return Promise.resolve();
    if (!this.#toldWait) {
      this.#toldWait = true;
      this.#log?.info('BIRD is still applying the previous configuration; waiting before reconfiguring');
    }
    return this.#applying;
  }

  run(): Promise<ReconfigureOutcome> {
    if (this.#inFlight === null) return this.#start();
    // Still waiting for BIRD: its command has not started, so it sees every file written so far.
    if (!this.#configuring) return this.#inFlight;
    if (this.#next === null) {
      this.#next = this.#inFlight.then(() => {
        this.#next = null;
        return this.#start();
      });
    }
    return this.#next;
  }

  #start(): Promise<ReconfigureOutcome> {
    const waiting = this.#applying;
    this.#configuring = waiting === null;
    const p = (waiting === null ? this.#configure() : this.settle().then(() => this.#configure())).finally(() => {
      if (this.#inFlight === p) this.#inFlight = null;
    });
    this.#inFlight = p;
    return p;
  }

  async #configure(): Promise<ReconfigureOutcome> {
    this.#configuring = true;
    this.runs += 1;
    const outcome = await runReconfigure(this.command, {
      timeoutMs: this.timeoutMs,
      run: this.#runner(),
      ...(this.#signal ? { signal: this.#signal } : {}),
    });
    this.lastOutcome = outcome;
    if (outcome.status === 'in-progress' && this.#statusArgv !== null) this.#watch(this.#statusArgv);
    return outcome;
  }

  /** Ask BIRD until it is done; the next run waits for this. */
  #watch(statusArgv: readonly string[]): void {
    this.#toldWait = false;
    const deadlineMs = this.#waitDeadlineMs;
    this.#applying = waitForConfigureIdle(statusArgv, {
      deadlineMs,
      intervalMs: this.#pollIntervalMs,
      timeoutMs: this.timeoutMs,
      run: this.#runner(),
      ...(this.#signal ? { signal: this.#signal } : {}),
    }).then((waited) => {
      this.#applying = null;
      if (waited.ended === 'timed-out') {
        this.#log?.warning(
          `BIRD still reports a reconfiguration in progress after ${(deadlineMs / 1000).toFixed(1)}s (${statusArgv.join(' ')}); not waiting any longer`,
        );
      }
    });
  }
}
