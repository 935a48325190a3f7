// Running the host's tools (ip, bird, birdc) from the test bed: async with a timeout for normal
// use, sync for the process 'exit' hook where nothing asynchronous can run any more.
import { execFile, spawnSync } from 'node:child_process';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A host command that failed; the message carries the command line and its output. */
export class ExecError extends Error {
  readonly code = 'AHC_TEST_EXEC';
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    const out = `${result.stdout}${result.stderr}`.trim();
    super(`command failed (exit ${result.code}): ${argv.join(' ')}${out === '' ? '' : `\n${out}`}`);
    this.name = 'ExecError';
  }
}

export interface ExecOptions {
  /** Kill the command after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of rejecting (default false). */
  readonly allowFailure?: boolean;
}

/** Run argv without a shell; rejects with ExecError on a non-zero exit unless allowFailure. */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (program === undefined) return Promise.reject(new Error('exec: empty argv'));
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { timeout: options.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        let code = 0;
        if (error !== null) {
          const errno = (error as NodeJS.ErrnoException).code;
          code = typeof errno === 'number' ? errno : typeof errno === 'string' ? 127 : 1;
          if (error.killed) code = 124;
        }
        const result: ExecResult = { code, stdout, stderr };
        if (code !== 0 && options.allowFailure !== true) reject(new ExecError(argv, result));
        else resolve(result);
      },
    );
  });
}

/** Synchronous exec that never throws (used by cleanup paths). */
export function execSync(argv: readonly string[], timeoutMs = 10_000): ExecResult {
  const [program, ...args] = argv;
  if (program === undefined) return { code: 127, stdout: '', stderr: 'empty argv' };
  const r = spawnSync(program, args, { timeout: timeoutMs, encoding: 'utf8' });
  const code = r.error !== undefined ? 127 : (r.status ?? 128);
  return { code, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** True when a process with this pid exists (signal 0 probe). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Send a signal, ignoring "no such process". */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for a poll interval; only for synchronous cleanup in an 'exit' hook. */
export function blockFor(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
