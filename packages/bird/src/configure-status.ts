/**
 * Is BIRD still applying a configuration? `birdc configure status` (docs/bird.md, "Reconfigure
 * commands and replies"). What it prints (BIRD 2.0.12 and 3.3.2, observed; exit 0 in each case):
 *   idle:            "BIRD x.y.z ready." / "Daemon is up and running"
 *   busy:            ... / "Reconfiguration in progress"
 *   busy and queued: ... / "Reconfiguration in progress, next one enqueued"
 * BIRD 1.6.8 does not know the command: it prints "syntax error" (exit 0). An answer that is
 * neither busy nor idle counts as idle: waiting on it would only delay every reconfigure.
 */
import { basename } from 'node:path';
import { runCommand } from '@ahc/command';
import type { CommandResult, CommandRunner } from '@ahc/command';

export type ConfigureState = 'busy' | 'idle' | 'unknown';

/** The programs whose `configure` has a `configure status` (BIRD's clients). */
const BIRD_CLIENTS = new Set(['birdc', 'birdc6', 'birdcl']);
const BUSY = /^Reconfiguration in progress\b/;
const IDLE = /^Daemon is up and running\b/;
/** `birdc -v` puts a reply code before each line (`0003-Daemon is up and running`). */
const REPLY_CODE = /^\d{4}[ -]/;

/**
 * The `configure status` command of a BIRD reconfigure command: its words up to `configure`,
 * then `status` (`sudo /usr/sbin/birdc -s /run/bird.ctl configure` gives `... configure status`).
 * Null when the command is not birdc/birdc6/birdcl followed by a `configure` word (a custom
 * script): then nobody can ask BIRD whether it is still busy.
 */
export function configureStatusArgv(argv: readonly string[]): string[] | null {
  const client = argv.findIndex((word) => BIRD_CLIENTS.has(basename(word)));
  if (client < 0) return null;
  const configure = argv.indexOf('configure', client + 1);
  if (configure < 0) return null;
  return [...argv.slice(0, configure + 1), 'status'];
}

/** Judge a `configure status` answer; anything but a clean exit with a known line is 'unknown'. */
export function classifyConfigureStatus(result: CommandResult): ConfigureState {
  if (result.spawnError !== null || result.timedOut || result.signal !== null || result.code !== 0) return 'unknown';
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim().replace(REPLY_CODE, ''))
    .filter((line) => line !== '');
  if (lines.some((line) => BUSY.test(line))) return 'busy';
  if (lines.some((line) => IDLE.test(line))) return 'idle';
  return 'unknown';
}

export interface WaitForIdleOptions {
  /** Stop asking after this many milliseconds (BIRD may be stuck; the caller goes on); a question under way is answered first. */
  readonly deadlineMs: number;
  /** Between two questions (default 50). */
  readonly intervalMs?: number;
  /** Each question is killed after this many milliseconds. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called once, at the first answer that BIRD is busy. */
  readonly onBusy?: () => void;
  /** What starts each question (default runCommand). */
  readonly run?: CommandRunner;
}

/** How a wait ended: `idle`, `unknown` (an answer that is not busy nor idle: treat as idle), `timed-out`, `aborted` (shutdown). */
export type WaitForIdleResult = { readonly ended: 'idle' | 'unknown' | 'timed-out' | 'aborted'; readonly polls: number };

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * Ask `configure status` until BIRD is no longer busy, at most `deadlineMs`. Never rejects.
 */
export async function waitForConfigureIdle(statusArgv: readonly string[], options: WaitForIdleOptions): Promise<WaitForIdleResult> {
  const interval = options.intervalMs ?? 50;
  const end = performance.now() + options.deadlineMs;
  let polls = 0;
  for (;;) {
    if (isAborted(options.signal)) return { ended: 'aborted', polls };
    if (performance.now() >= end) return { ended: 'timed-out', polls };
    const result = await (options.run ?? runCommand)(statusArgv, {
      timeoutMs: options.timeoutMs,
      maxOutputBytes: 4096,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    polls += 1;
    if (isAborted(options.signal)) return { ended: 'aborted', polls };
    const state = classifyConfigureStatus(result);
    if (state !== 'busy') return { ended: state, polls };
    if (polls === 1) options.onBusy?.();
    if (end - performance.now() <= interval) return { ended: 'timed-out', polls };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, interval);
      function done(): void {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      }
      options.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
