// The program (bundled to dist/main.mjs): parse the command line, run, exit with its code.
import { main } from './cli';

main().then(
  (code) => {
    process.exitCode = code;
    // Daemon mode closes its own handles; -c/-p/-P have nothing left. Flush stdout, then go.
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`anycast-healthchecker: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(2);
  },
);
