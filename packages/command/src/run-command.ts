/** What became of one command run. `code` is the exit code, or the shell-style 127/126 when
 * the program could not be started, or null when the process was killed by a signal. */
export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES, ...). */
  readonly spawnError: { code: string; message: string } | null;
  /** Captured stdout and stderr, each cut at `maxOutputBytes`. */
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly durationMs: number;
}

export interface RunCommandOptions {
  /** Kill the whole process group after this many milliseconds. */
  readonly timeoutMs: number;
  /** Bytes kept of each of stdout and stderr (default 4096). The rest is drained and dropped. */
  readonly maxOutputBytes?: number;
  /** Aborting kills the process group at once (daemon shutdown). */
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
}

/** runCommand's signature: what runs the daemon's own commands (runCommand itself, or the spawn helper's run). */
export type CommandRunner = (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult>;

/** How long to wait for pipes to close after the child exited, before giving up on output held
 * open by a process that left its group (and so survived the group kill). */
const DRAIN_AFTER_EXIT_MS = 50;

/**
 * SIGKILL the process group the child leads. Spawned detached, the child calls setsid(): it
 * leads a new session and a new process group, both with its pid as id.
 *
 * Also called when a run ends after the child exited by itself, to take down whatever it left
 * behind in its group (a background job, one that ignores SIGTERM or holds the output pipe).
 * The run ends when the pipes close or DRAIN_AFTER_EXIT_MS after the exit, not at the exit
 * itself: a program that daemonizes forks, lets the parent exit and calls setsid() in the child,
 * which leaves the group; it usually redirects its output only after that, so by the time the
 * pipes close it is out of reach, as it should be (a custom reconfigure command may restart a
 * daemon this way).
 *
 * Why the kill after the reap cannot hit a stranger: while any process is still in group `pid`,
 * the kernel keeps that pid allocated, so no new process can get it; and no other process can
 * move into the group, because setpgid() only joins a group of the caller's own session, and
 * only the command's descendants are in that session. Once the group is empty the number may be
 * handed out again, but Linux allocates pids in a cycle through the whole range (at least 32768)
 * before it reuses one, which does not happen in the at most 50 ms before our kill; and the
 * new owner would also have to make itself a group leader (setsid or setpgid(0, 0)). Processes
 * that left the group themselves (setsid, setpgid) are out of reach of any group kill.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing is left in the group
  }
}

/** A command killed before its end (shutdown, or with the helper that ran it), or never started because the run was aborted first. */
export const ABORTED: CommandResult = Object.freeze({
  code: null,
  signal: 'SIGKILL',
  timedOut: false,
  spawnError: null,
  stdout: '',
  stderr: '',
  truncated: false,
  durationMs: 0,
});

/**
 * Run argv without a shell in a new process group, so that the command leaves nothing behind:
 * on timeout or abort the whole group is killed, and when the command exits by itself whatever
 * it started in its group is killed at once. Never rejects: failures to start are reported in
 * the result.
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const max = options.maxOutputBytes ?? 4096;
  return new Promise((resolve) => {
    const [program, ...args] = argv;
    if (options.signal?.aborted === true) {
      // Aborted before it could start (a stop that came first): nothing is started, since the
      // abort event that kills a running command has fired already.
      resolve(ABORTED);
      return;
    }
    if (program === undefined || program === '') {
      resolve({
        code: 127,
        signal: null,
        timedOut: false,
        stdout: '',
        stderr: '',
        truncated: false,
        spawnError: { code: 'EINVAL', message: 'empty command' },
        durationMs: 0,
      });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let timedOut = false;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let drainTimer: NodeJS.Timeout | undefined;

    // Loaded at the first direct spawn: a worker thread whose checks go through the spawn helper
    // never loads child_process (and the net and stream modules under it) into its heap.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(program, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });

    const collect = (chunks: Buffer[], which: 'out' | 'err') => (chunk: Buffer) => {
      const used = which === 'out' ? outBytes : errBytes;
      const room = max - used;
      if (room <= 0) {
        truncated = true;
        return;
      }
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (piece.length < chunk.length) truncated = true;
      chunks.push(piece);
      if (which === 'out') outBytes += piece.length;
      else errBytes += piece.length;
    };
    child.stdout.on('data', collect(out, 'out'));
    child.stderr.on('data', collect(err, 'err'));

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);

    const onAbort = (): void => killGroup(child.pid);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (spawnError: CommandResult['spawnError']): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // The run is over: nothing the command started may outlive it (see killGroup).
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      let code = exitCode;
      if (spawnError !== null) code = spawnError.code === 'ENOENT' ? 127 : 126;
      resolve({
        code,
        signal: exitSignal,
        timedOut,
        spawnError,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        truncated,
        durationMs: performance.now() - started,
      });
    };

    child.once('error', (error: NodeJS.ErrnoException) => {
      finish({ code: error.code ?? 'UNKNOWN', message: error.message });
    });
    child.once('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      if (timedOut) {
        finish(null);
        return;
      }
      // Give the pipes a moment to deliver the last output; a process that left the group and
      // keeps them open must not keep the check running.
      drainTimer = setTimeout(() => finish(null), DRAIN_AFTER_EXIT_MS);
    });
    child.once('close', () => finish(null));
  });
}

/** A one-line description of a result for logs. */
export function describeResult(result: CommandResult): string {
  if (result.spawnError !== null) return `could not be started: ${result.spawnError.message}`;
  if (result.timedOut) return `timed out after ${result.durationMs.toFixed(0)} ms and was killed`;
  if (result.signal !== null) return `was killed by ${result.signal}`;
  return `exited with code ${result.code ?? 'unknown'}`;
}
