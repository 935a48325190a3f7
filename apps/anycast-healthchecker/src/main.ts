// The program (bundled to dist/main.mjs): parse the command line, run, exit with its code.
import { main } from './cli';

/** Give up on output that makes no progress for this long (a reader that stopped reading). */
const STALLED_OUTPUT_MS = 500;

/**
 * Exit once stdout and stderr have handed everything to the kernel. A slow reader is waited
 * for as long as it keeps reading; one that stopped (a stalled pipe) costs at most
 * STALLED_OUTPUT_MS, so SIGTERM ends the daemon promptly whatever its output does.
 */
function exitAfterOutput(code: number): void {
  const pending = (): number => {
    let n = 0;
    for (const s of [process.stdout, process.stderr]) {
      try {
        if (!s.destroyed && s.errored === null) n += s.writableLength;
      } catch {
        // not a stream we can ask: nothing to wait for
      }
    }
    return n;
  };
  let last = pending();
  let progressAt = performance.now();
  const poll = (): void => {
    const now = pending();
    if (now === 0) process.exit(code);
    if (now < last) progressAt = performance.now();
    last = now;
    if (performance.now() - progressAt >= STALLED_OUTPUT_MS) process.exit(code);
    setTimeout(poll, 10);
  };
  poll();
}

// A reader that went away (`… | head`) must not turn into an uncaught exception; the daemon
// takes over these streams with its log sinks (docs/logging.md).
for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);

main().then(
  (code) => {
    process.exitCode = code;
    exitAfterOutput(code);
  },
  (error: unknown) => {
    try {
      process.stderr.write(
        `anycast-healthchecker: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    } catch {
      // stderr is gone
    }
    exitAfterOutput(2);
  },
);
