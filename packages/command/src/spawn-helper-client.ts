import { ERR } from '@ahc/errors';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ABORTED, runCommand } from './run-command';
import type { CommandResult, RunCommandOptions } from './run-command';
import { ReplyDecoder, SpawnProtocolError, encodeCancel, encodeRun } from './spawn-protocol';
import type { DoneReply, SpawnReply } from './spawn-protocol';

/** What the client tells: a helper death (once per death, with the reason) and its return. */
export interface SpawnHelperLog {
  info(message: string): void;
  warning(message: string): void;
}

export interface SpawnHelperOptions {
  /** The ahc-spawn binary. */
  readonly binary: string;
  readonly log: SpawnHelperLog;
  /** Delay before restart attempt n (0 for the first after a stable run): the workers' backoff. */
  readonly restartDelayMs: (attempt: number) => number;
  /** A helper that ran this long before it died counts as stable: the next restart is immediate. */
  readonly stableRunMs?: number;
  /** Runs a command while no helper is running (default runCommand, today's direct spawn). */
  readonly fallback?: (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult>;
}

/** The helper's state for the status reply and the metrics. */
export interface SpawnHelperState {
  /** `running`; `restarting` (died, waiting for its restart: commands run directly meanwhile); `stopped` (closed). */
  readonly state: 'running' | 'restarting' | 'stopped';
  readonly pid: number | null;
  readonly restarts: number;
  /** Commands the helper runs now. */
  readonly inFlight: number;
  /** Commands run directly (runCommand) because no helper was running or it was full. */
  readonly fallbackRuns: number;
  /** Commands re-run because the helper died while it ran them. */
  readonly rerunsAfterDeath: number;
  /** Why the last helper ended, or null. */
  readonly lastExit: string | null;
}

type Helper = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  readonly argv: readonly string[];
  readonly options: RunCommandOptions;
  readonly resolve: (result: CommandResult) => void;
  /** The helper it was sent to. */
  readonly helper: Helper;
  /** The check's pid once `started` came: its process group is killed when the helper dies. */
  pid: number | null;
  /** Re-run once already (a second helper death sends it to runCommand). */
  readonly rerun: boolean;
  readonly onAbort: () => void;
}

/** When close() gives up waiting for the helper's exit and kills it. */
const CLOSE_GRACE_MS = 1000;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals] as const),
);

/** The CommandResult runCommand would give for what the helper reported (package docs: run-command.ts). */
export function resultFromDone(done: DoneReply, program: string): CommandResult {
  const durationMs = done.durationUs / 1000;
  const stdout = done.stdout.toString('utf8');
  const stderr = done.stderr.toString('utf8');
  if (done.kind === 'spawn-error') {
    return {
      code: done.code ?? 126,
      signal: null,
      timedOut: false,
      spawnError: { code: done.errno, message: `spawn ${program} ${done.errno}` },
      stdout,
      stderr,
      truncated: false,
      durationMs,
    };
  }
  return {
    code: done.code,
    signal: done.signal === 0 ? null : (SIGNAL_NAMES.get(done.signal) ?? null),
    timedOut: done.kind === 'timed-out',
    spawnError: null,
    stdout,
    stderr,
    truncated: done.truncated,
    durationMs,
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing is left in the group
  }
}

/**
 * The daemon's side of ahc-spawn (docs/design.md, "Spawning checks: the ahc-spawn helper"):
 * `run` has runCommand's contract, and runs the command through the helper while one runs, else
 * directly. The helper is supervised: when it dies (exits, is killed, writes garbage) the process
 * groups of the checks it had started are killed and those commands are run again, so its death
 * never turns into a failed check by itself; it is restarted with backoff.
 */
export class SpawnHelper {
  #helper: Helper | null = null;
  #helperStartedAt = 0;
  #decoder = new ReplyDecoder();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #restarts = 0;
  #crashes = 0;
  #fallbackRuns = 0;
  #reruns = 0;
  #lastExit: string | null = null;
  #restartTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #fallback: (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult>;

  private constructor(private readonly options: SpawnHelperOptions) {
    this.#fallback = options.fallback ?? runCommand;
  }

  /** Starts the helper; rejects (with the reason) when it cannot be started at all. */
  static async start(options: SpawnHelperOptions): Promise<SpawnHelper> {
    const client = new SpawnHelper(options);
    await client.#launch();
    return client;
  }

  get pid(): number | null {
    return this.#helper?.pid ?? null;
  }

  state(): SpawnHelperState {
    return {
      state: this.#closed ? 'stopped' : this.#helper !== null ? 'running' : 'restarting',
      pid: this.pid,
      restarts: this.#restarts,
      inFlight: this.#pending.size,
      fallbackRuns: this.#fallbackRuns,
      rerunsAfterDeath: this.#reruns,
      lastExit: this.#lastExit,
    };
  }

  /** runCommand's contract: never rejects; aborting kills the process group at once. */
  run(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
    return this.#dispatch(argv, options, false);
  }

  /** Ends the helper (it kills what still runs); waits for its exit, at most CLOSE_GRACE_MS. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const helper = this.#helper;
    this.#helper = null;
    if (helper !== null) {
      const exited = new Promise<void>((resolve) => {
        if (helper.exitCode !== null || helper.signalCode !== null) resolve();
        else helper.once('exit', () => resolve());
      });
      helper.stdin.end();
      const timer = setTimeout(() => helper.kill('SIGKILL'), CLOSE_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    // Whatever was still running was killed with the helper: told as an abort, as runCommand does.
    for (const [id, p] of [...this.#pending]) {
      this.#settle(id, p, ABORTED);
    }
  }

  #dispatch(argv: readonly string[], options: RunCommandOptions, rerun: boolean): Promise<CommandResult> {
    const helper = this.#helper;
    let frame: Buffer | null = null;
    if (helper !== null && !options.signal?.aborted) {
      try {
        frame = encodeRun({ id: this.#nextId, timeoutMs: options.timeoutMs, maxOutput: options.maxOutputBytes ?? 4096, argv });
      } catch {
        frame = null; // empty argv, a NUL byte, too long: runCommand reports it as it always has
      }
    }
    if (helper === null || frame === null || options.env !== undefined) return this.#direct(argv, options);
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return new Promise((resolve) => {
      const onAbort = (): void => {
        if (this.#helper === helper && this.#pending.has(id)) helper.stdin.write(encodeCancel(id));
      };
      this.#pending.set(id, { argv, options, resolve, helper, pid: null, rerun, onAbort });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      helper.stdin.write(frame);
    });
  }

  #direct(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
    this.#fallbackRuns += 1;
    return this.#fallback(argv, options);
  }

  #settle(id: number, p: Pending, result: CommandResult): void {
    this.#pending.delete(id);
    p.options.signal?.removeEventListener('abort', p.onAbort);
    p.resolve(result);
  }

  #launch(): Promise<void> {
    return new Promise((resolve, reject) => {
      let helper: Helper;
      try {
        // Its own session: a terminal's ^C (to the daemon's group) does not reach it; the daemon's
        // death does (stdin EOF, and PR_SET_PDEATHSIG). stderr: its own rare diagnostics.
        helper = spawn(this.options.binary, [String(process.pid)], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
      } catch (error) {
        reject(error as Error);
        return;
      }
      let spawned = false;
      helper.once('spawn', () => {
        spawned = true;
        if (this.#closed) {
          helper.stdin.end(); // closed while it started: it leaves at EOF
          resolve();
          return;
        }
        this.#helper = helper;
        this.#helperStartedAt = performance.now();
        this.#decoder = new ReplyDecoder();
        resolve();
      });
      helper.once('error', (error: NodeJS.ErrnoException) => {
        if (!spawned) {
          reject(error);
          return;
        }
        this.#died(helper, `failed: ${error.message}`);
      });
      helper.stdin.on('error', () => undefined); // EPIPE: the exit tells
      helper.stdout.on('data', (chunk: Buffer) => this.#onData(helper, chunk));
      // 'close', not 'exit': by then every reply it wrote was read, so each `started` it sent
      // before dying is known and its process group can be killed.
      helper.once('close', (code, signal) => this.#died(helper, signal !== null ? `was killed by ${signal}` : `exited with code ${code}`));
    });
  }

  #onData(helper: Helper, chunk: Buffer): void {
    if (this.#helper !== helper) return;
    let replies: SpawnReply[];
    try {
      replies = this.#decoder.push(chunk);
    } catch (error) {
      const message = error instanceof SpawnProtocolError ? error.message : String(error);
      helper.kill('SIGKILL');
      this.#died(helper, `wrote what is not in the protocol (${ERR.AHC_SPAWN_PROTOCOL}: ${message})`);
      return;
    }
    for (const reply of replies) {
      const p = this.#pending.get(reply.id);
      if (p === undefined || p.helper !== helper) continue;
      if (reply.type === 'started') {
        p.pid = reply.pid;
        continue;
      }
      if (reply.kind === 'spawn-error' && reply.errno === 'EAGAIN') {
        // The helper is full (or the system is): run it directly rather than fail the check.
        this.#pending.delete(reply.id);
        p.options.signal?.removeEventListener('abort', p.onAbort);
        void this.#direct(p.argv, p.options).then(p.resolve);
        continue;
      }
      this.#settle(reply.id, p, resultFromDone(reply, p.argv[0] ?? ''));
    }
  }

  /** The helper is gone: kill what it had started, run it again, restart the helper. Once per helper. */
  #died(helper: Helper, reason: string): void {
    if (this.#helper !== helper) return;
    this.#helper = null;
    this.#lastExit = reason;
    helper.kill('SIGKILL'); // a helper that wrote garbage may still run
    const orphans = [...this.#pending].filter(([, p]) => p.helper === helper);
    for (const [, p] of orphans) if (p.pid !== null) killGroup(p.pid);
    if (this.#closed) return;
    const ranMs = performance.now() - this.#helperStartedAt;
    this.#crashes = ranMs >= (this.options.stableRunMs ?? 5000) ? 1 : this.#crashes + 1;
    const delay = this.options.restartDelayMs(this.#crashes - 1);
    this.options.log.warning(
      `the check spawner ahc-spawn (pid ${helper.pid ?? '-'}) ${reason}; ${orphans.length} running checks are run again, ` +
        `the helper restarts ${delay === 0 ? 'now' : `in ${delay} ms`} (checks run directly meanwhile)`,
    );
    const rerun = (): void => {
      for (const [id, p] of orphans) {
        this.#pending.delete(id);
        p.options.signal?.removeEventListener('abort', p.onAbort);
        if (p.options.signal?.aborted) {
          p.resolve(ABORTED);
          continue;
        }
        this.#reruns += 1;
        // Through the new helper when it runs already, once; else directly.
        const again = p.rerun ? this.#direct(p.argv, p.options) : this.#dispatch(p.argv, p.options, true);
        void again.then(p.resolve);
      }
    };
    if (delay > 0) {
      rerun();
      this.#restartTimer = setTimeout(() => void this.#restart(), delay);
      return;
    }
    // Restart now; the orphans go to the new helper once it runs (or directly, if it cannot start).
    void this.#restart().finally(rerun);
  }

  async #restart(): Promise<void> {
    if (this.#closed || this.#helper !== null) return;
    this.#restarts += 1;
    try {
      await this.#launch();
      this.options.log.info(`the check spawner ahc-spawn runs again (pid ${this.pid ?? '-'})`);
    } catch (error) {
      const reason = `could not be started: ${(error as Error).message}`;
      this.#lastExit = reason;
      this.#crashes += 1;
      const delay = Math.max(1, this.options.restartDelayMs(this.#crashes - 1));
      this.options.log.warning(`the check spawner ahc-spawn ${reason}; next try in ${delay} ms (checks run directly meanwhile)`);
      this.#restartTimer = setTimeout(() => void this.#restart(), delay);
    }
  }
}
