import { describeError } from '@ahc/errors';
import { runCommand as realRunCommand, describeResult } from '@ahc/command';
import type { CommandResult, RunCommandOptions } from '@ahc/command';
import type { CheckCounters, FromWorker, IpPrefix, LogLevel, ServiceCheckSpec, ServiceState } from '@ahc/protocol';
import { logLevelRank, monotonicMs } from '@ahc/protocol';
import { isPrefixAssigned } from './ip-assignment';
import { recordCheck, recordIpUnassigned } from './rise-fall';
import type { Step } from './rise-fall';
import { nextTick } from './schedule';

/** The longest delay setTimeout takes as given (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** What a check loop needs from the outside world; the worker passes the real ones, unit tests
 * may pass their own clock. */
export interface CheckLoopDeps {
  readonly post: (message: FromWorker) => void;
  /** The monotonic clock (ms) for the schedule; tests may pass their own. */
  readonly now?: () => number;
  readonly random?: () => number;
  /** The interface check of one of the spec's prefixes when the main thread has no answer
   * (`ipAssigned` null), or to name the missing ones when it says one is: getifaddrs by default. */
  readonly isAssigned?: (spec: ServiceCheckSpec, prefix: IpPrefix) => boolean;
  /** The main thread's answer at start (docs/design.md, "Address checks: one kernel subscription"); null or absent: none. */
  readonly ipAssigned?: boolean | null;
  readonly runCommand?: (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult>;
}

type LoopState = 'idle' | 'running' | 'stopped';

/**
 * One service's check loop (docs/configuration.md, "Service checks"; docs/design.md, "Checks"):
 * splay, drift-free ticks, interface check, check_cmd with timeout, rise/fall. It runs inside a
 * worker thread and only posts messages; it never touches BIRD.
 */
export class CheckLoop {
  #state: LoopState = 'idle';
  #counters: CheckCounters;
  #timer: NodeJS.Timeout | undefined;
  #anchor = 0;
  /** The moment the armed (or running) scheduled check is due: the next one is after it. */
  #due = 0;
  #checking = false;
  #runNowPending = false;
  /** The address watch's answer; null: ask `#isAssigned` at each check. */
  #ipAssigned: boolean | null;
  readonly #abort = new AbortController();
  readonly #minLevel: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #isAssigned: (spec: ServiceCheckSpec, prefix: IpPrefix) => boolean;
  readonly #run: (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult>;

  constructor(
    readonly spec: ServiceCheckSpec,
    counters: CheckCounters,
    logLevel: LogLevel,
    private readonly deps: CheckLoopDeps,
  ) {
    this.#counters = counters;
    this.#minLevel = logLevelRank(logLevel);
    this.#now = deps.now ?? monotonicMs;
    this.#random = deps.random ?? Math.random;
    this.#isAssigned = deps.isAssigned ?? ((s, p) => isPrefixAssigned(s.interface, p.address, p.prefixLength, p.family));
    this.#run = deps.runCommand ?? realRunCommand;
    this.#ipAssigned = deps.ipAssigned ?? null;
  }

  /**
   * The main thread's address watch changed its answer. An address that went away is checked at
   * once (as runNow, the schedule does not move), so the route goes within milliseconds instead
   * of at the next tick; one that came back waits for the next tick, as rise counts ticks.
   */
  setIpAssigned(assigned: boolean | null): void {
    const before = this.#ipAssigned;
    this.#ipAssigned = assigned;
    if (assigned === false && before !== false && !this.spec.ipCheckDisabled) this.runNow();
  }

  get counters(): CheckCounters {
    return this.#counters;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    const splay = this.spec.splayMs > 0 ? Math.round(this.#random() * this.spec.splayMs) : 0;
    if (splay > 0) {
      // splay_startup: spread on purpose, each service on its own grid.
      this.#log('info', `delaying startup for ${(splay / 1000).toFixed(3)}secs`);
      this.#anchor = this.#now() + splay;
      this.#due = this.#anchor;
      this.#arm(splay);
      return;
    }
    // The grid shared by every service (anchored at the daemon's start), at this service's phase.
    // The first check is at its point of the grid when the daemon has just started, else (a
    // reload, a restarted thread) one phase from now: a restarted thread of hundreds of checks
    // does not start them all at once either.
    const now = this.#now();
    // The epoch is the main thread's monotonicMs() at start, the same clock as here: one further
    // ahead than an interval is not that clock (a wall-clock time, say). Taken as now, instead
    // of a first check days away or, past setTimeout's range, checks in a tight loop.
    const epoch = this.spec.epochMs > now + this.spec.intervalMs ? now : this.spec.epochMs;
    this.#anchor = epoch + this.spec.phaseMs;
    this.#due = this.#anchor >= now ? this.#anchor : now + this.spec.phaseMs;
    this.#arm(this.#due - now);
  }

  /** SIGURG: check now, without moving the schedule. */
  runNow(): void {
    if (this.#state !== 'running') return;
    if (this.#checking) {
      this.#runNowPending = true;
      return;
    }
    void this.#check(false);
  }

  /** Test-only: stop scheduling checks while the thread stays alive (a lost timer). */
  stall(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#state = 'stopped';
  }

  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#abort.abort();
  }

  #arm(delayMs: number): void {
    // setTimeout fires after 1 ms for anything past 2^31-1 ms: never ask it for more.
    this.#timer = setTimeout(() => void this.#check(true), Math.min(MAX_TIMER_MS, Math.max(0, delayMs)));
  }

  async #check(scheduled: boolean): Promise<void> {
    if (this.#state !== 'running') return;
    if (this.#checking) {
      // A scheduled tick while a check still runs: skip it, the overrun check counts.
      if (scheduled) this.#armNext();
      return;
    }
    this.#checking = true;
    try {
      await this.#checkOnce();
    } catch (error) {
      this.#log('error', `check loop error: ${describeError(error)}`);
    } finally {
      this.#checking = false;
    }
    if (this.#state !== 'running') return;
    if (scheduled) this.#armNext();
    if (this.#runNowPending) {
      this.#runNowPending = false;
      void this.#check(false);
    }
  }

  #armNext(): void {
    if (this.#state !== 'running') return;
    const now = this.#now();
    // After the tick this check was due at, even if the timer fired a little early: libuv's
    // timers count whole milliseconds, the clock has fractions, and a check that spawns nothing
    // (an unassigned address) can end before the tick it ran for, which then ran twice.
    const next = nextTick(this.#anchor, this.spec.intervalMs, Math.max(now, this.#due));
    this.#due = next;
    // Never more than one interval, whatever the clock did (defence in depth: the clock is
    // monotonic, so this only matters if it was not).
    const sleep = Math.min(Math.max(0, next - now), this.spec.intervalMs);
    this.#log('debug', `sleeping for ${(sleep / 1000).toFixed(3)}secs`, true);
    this.#arm(sleep);
  }

  /**
   * One check, logged record for record as the Python daemon logs it (docs/log-records.md lists the
   * records operators' alerting reads); records of our own are added beside them, never instead.
   */
  async #checkOnce(): Promise<void> {
    const spec = this.spec;
    const limits = { rise: spec.rise, fail: spec.fail };
    const began = this.#now();
    if (spec.ipCheckDisabled) {
      this.#log('info', `checking for IP assignment on interface ${spec.interface} is disabled`);
    } else {
      const missing = this.#missingPrefixes();
      for (const p of spec.prefixes) {
        if (!missing.includes(p)) this.#log('debug', `${p.prefix} assigned to ${spec.interface} interface`);
      }
      if (missing.length > 0) {
        for (const p of missing) this.#log('warning', `${p.prefix} isn't assigned to ${spec.interface} interface`);
        const step = recordIpUnassigned(this.#counters);
        this.#postResult(step, { ok: false, exitCode: null, timedOut: false, ipAssigned: false, durationMs: 0 });
        for (const p of missing) {
          this.#log('warning', `status DOWN because ${p.prefix} isn't assigned to ${spec.interface} interface.`, true, step.counters.state);
        }
        this.#queue(step, 'ip-unassigned');
        this.#logWallClock(began, step.counters.state);
        return;
      }
    }
    this.#log('info', `running ${spec.argv.join(' ')}`);
    const result = await this.#run(spec.argv, {
      timeoutMs: spec.timeoutMs,
      maxOutputBytes: spec.maxOutputBytes,
      signal: this.#abort.signal,
    });
    if (this.#state !== 'running') return;
    const ok = result.spawnError === null && !result.timedOut && result.code === 0;
    if (result.timedOut) {
      this.#log('error', 'check timed out');
      this.#log('info', `the check ran longer than check_timeout = ${(spec.timeoutMs / 1000).toFixed(3)}s; its process group was killed`);
    } else {
      this.#log('info', `check duration ${result.durationMs.toFixed(3)}ms`);
    }
    if (!ok) {
      if (!result.timedOut) this.#log('warning', `check failed: ${spec.argv[0] ?? ''} ${describeResult(result)}`);
      const cut = result.truncated ? ' (output cut)' : '';
      if (result.stderr !== '') this.#log('info', `stderr from the check${cut}: ${result.stderr.trimEnd()}`);
      if (result.stdout !== '') this.#log('info', `stdout from the check${cut}: ${result.stdout.trimEnd()}`);
    }
    const step = recordCheck(this.#counters, ok, limits);
    const decided = step.counters.state;
    this.#postResult(step, {
      ok,
      exitCode: result.timedOut ? null : result.code,
      timedOut: result.timedOut,
      signal: result.timedOut ? null : result.signal,
      ipAssigned: true,
      durationMs: result.durationMs,
    });
    if (ok) {
      if (step.counters.rise < limits.rise) this.#log('info', `going up ${step.counters.rise}/${limits.rise}`, true, decided);
      else if (step.transition === null) this.#log('info', 'status UP', true, decided);
      else this.#log('info', 'changed to UP', true, decided);
    } else if (step.counters.fail < limits.fail) {
      this.#log('info', `going down ${step.counters.fail}/${limits.fail}`, true, decided);
    } else if (step.transition === null) {
      this.#log('info', 'status DOWN', true, decided);
    } else {
      this.#log('info', 'changed to DOWN', true, decided);
    }
    this.#queue(step, 'check');
    this.#logWallClock(began, decided);
  }

  /**
   * The spec's prefixes that are not on the interface. The address watch's answer is one bit
   * for the service; when it says one is missing and there are several, getifaddrs names which
   * (all of them if it sees none missing: the watch saw what getifaddrs does not, e.g. an address
   * whose duplicate address detection failed).
   */
  #missingPrefixes(): readonly IpPrefix[] {
    const { prefixes } = this.spec;
    if (this.#ipAssigned === true) return [];
    if (this.#ipAssigned === false && prefixes.length === 1) return prefixes;
    const missing = prefixes.filter((p) => !this.#isAssigned(this.spec, p));
    return this.#ipAssigned === false && missing.length === 0 ? prefixes : missing;
  }

  #logWallClock(began: number, status: ServiceState): void {
    this.#log('info', `wall clock time ${(this.#now() - began).toFixed(3)}ms`, true, status);
  }

  /**
   * The result goes out before the records that tell of it, as the Python daemon sets its metric
   * before it logs: the main thread applies it (textfile values, counters) first, so a textfile
   * written after a `changed to UP` record never shows the value from before it.
   */
  #postResult(
    step: Step,
    outcome: { ok: boolean; exitCode: number | null; timedOut: boolean; signal?: string | null; ipAssigned: boolean; durationMs: number },
  ): void {
    this.#counters = step.counters;
    this.deps.post({ type: 'result', service: this.spec.name, ...outcome, finishedAt: Date.now(), counters: step.counters });
  }

  /** A decision: `adding PREFIX in the queue`, and the transition for the main thread's queue. */
  #queue(step: Step, reason: 'check' | 'ip-unassigned'): void {
    if (step.transition === null) return;
    for (const p of this.spec.prefixes) this.#log('info', `adding ${p.prefix} in the queue`, true, step.counters.state);
    this.deps.post({ type: 'transition', service: this.spec.name, state: step.transition, reason, counters: step.counters });
  }

  /** `fields`: the record carries the service's fields in JSON logs, with `status` (the decided
   * state after this check; the current one when not given). */
  #log(level: LogLevel, message: string, fields = false, status: ServiceState = this.#counters.state): void {
    if (logLevelRank(level) < this.#minLevel) return;
    this.deps.post({ type: 'log', service: this.spec.name, level, message, ...(fields ? { status } : {}) });
  }
}
